/** `secrets decrypt`: the plaintext in the file's own format, as JSON, or one extracted value. */
import { StrataError } from "../../core/findings.js";
import { formatKeyPath, getAtPath, scalarToText, treeToJson } from "../../core/sops/document.js";
import { emitBinaryPlain, stores } from "../../core/sops/stores/index.js";
import { emitYaml } from "../../core/sops/stores/yaml-emit.js";
import { emitJson } from "../../core/sops/stores/json.js";
import { Branch, type TreeValue } from "../../core/sops/tree.js";
import { openSecretsFile, parseKeyPathArgument, type SecretsFileOptions } from "./open.js";

export interface DecryptOptions extends SecretsFileOptions {
  /** `json` for JSON output; otherwise the file's own format. */
  outputFormat?: "json";
  extract?: string;
}

/** The plaintext; bytes for binary files printed in their own format. */
export async function decryptSecrets(options: DecryptOptions): Promise<string | Uint8Array> {
  const opened = await openSecretsFile(options);
  const format = opened.format;
  if (options.extract !== undefined) {
    const path = parseKeyPathArgument(options.extract);
    const value = getAtPath(opened.plain[0] ?? new Branch(), path);
    if (value === undefined)
      throw new StrataError("invalid-argument", `${options.file}: no value at ${formatKeyPath(path)}`);
    return renderValue(value, options.outputFormat === "json" ? "json" : format === "json" ? "json" : "yaml");
  }
  if (options.outputFormat === "json") {
    const docs = opened.plain.map((b) => treeToJson(b));
    return JSON.stringify(docs.length === 1 ? docs[0] : docs, null, 2) + "\n";
  }
  if (format === "binary") return emitBinaryPlain(opened.plain);
  return stores[format].emitPlain(opened.plain);
}

function renderValue(v: TreeValue, as: "json" | "yaml"): string {
  if (v instanceof Branch) return as === "json" ? emitJson(v) : emitYaml([v]);
  if (Array.isArray(v)) return JSON.stringify(treeToJson(v), null, 2) + "\n";
  return as === "json" && typeof v !== "string" ? JSON.stringify(treeToJson(v)) : scalarToText(v);
}
