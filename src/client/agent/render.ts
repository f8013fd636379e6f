/**
 * The agent's output files: each rendered by the one table of output formats (core/render/formats.ts) that
 * `strata resolve` and `strata exec` share, so `dotenv` is the same verbatim `NAME=value` everywhere and two
 * keys that become one variable name are refused, never written as two lines.
 */
import type { Finding } from "../../core/findings.js";
import type { JsonValue } from "../../core/json.js";
import { renderConfigFile, type FileFormat } from "../../core/render/formats.js";

export type OutputFormat = FileFormat;

/** The format a file name implies (`.yaml`/`.yml`, `.env` as dotenv), else JSON. */
export function formatForPath(path: string): OutputFormat {
  if (/\.ya?ml$/i.test(path)) return "yaml";
  if (/(^|[./])env$/i.test(path)) return "dotenv";
  return "json";
}

export interface OutputFile {
  path: string;
  format: OutputFormat;
  /** The namespace -> value tree the file holds (one namespace's value for a `{namespace}` template). */
  tree: Record<string, JsonValue>;
}

/** The text of each file, or the findings that refuse one of them (their messages name keys, never values). */
export async function renderFiles(
  files: readonly OutputFile[],
): Promise<{ texts: Map<string, string>; refused: { path: string; findings: Finding[] }[] }> {
  const texts = new Map<string, string>();
  const refused: { path: string; findings: Finding[] }[] = [];
  for (const f of files) {
    const { text, findings } = await renderConfigFile(f.format, f.tree);
    if (findings.length > 0) refused.push({ path: f.path, findings });
    else texts.set(f.path, text);
  }
  return { texts, refused };
}
