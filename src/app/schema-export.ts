/**
 * `strata schema export`: the files editors use on a configuration repository (docs/editors.md): the
 * JSON Schema of strata.yaml, one layer schema per namespace for `environments/<env>/<ns>.yaml`, and the
 * `.vscode/settings.json` entries that bind them (merged into an existing file).
 */
import { join } from "node:path";
import { mergeEditorSettings } from "../core/editor-settings.js";
import type { Finding } from "../core/findings.js";
import type { JsonObject } from "../core/json.js";
import { createLayerSchema, editorSettings } from "../core/schema/layer-schema.js";
import { strataYamlSchema } from "../core/settings/strata-yaml-schema.js";
import type { RepoFiles } from "../core/source.js";
import {
  checkInside,
  listDirectory,
  pathExists,
  readFileToMerge,
  removeFile,
  writeFileInside,
} from "../io/fs/files.js";
import { loadRepository } from "./repository.js";

export const SETTINGS_SCHEMA_PATH = ".strata/strata.schema.json";
const LAYER_SCHEMA_DIR = ".strata/schemas";
export const VSCODE_SETTINGS_PATH = ".vscode/settings.json";
const LAYER_SUFFIX = ".layer.schema.json";

function layerSchemaPath(namespace: string): string {
  return `${LAYER_SCHEMA_DIR}/${namespace}${LAYER_SUFFIX}`;
}

/**
 * Every editor file of a repository with these namespace schemas, as repository-relative path -> text,
 * except `.vscode/settings.json` (which is merged with what is there: see exportSchemas).
 */
export function editorSchemaFiles(
  schemas: { namespace: string; file: string; schema: JsonObject }[],
): Record<string, string> {
  const files: Record<string, string> = { [SETTINGS_SCHEMA_PATH]: JSON.stringify(strataYamlSchema, null, 2) + "\n" };
  for (const s of [...schemas].sort((a, b) => a.namespace.localeCompare(b.namespace))) {
    files[layerSchemaPath(s.namespace)] =
      JSON.stringify(createLayerSchema(s.schema, { namespace: s.namespace, source: s.file }), null, 2) + "\n";
  }
  return files;
}

export function editorSettingsEntries(namespaces: readonly string[]): ReturnType<typeof editorSettings> {
  return editorSettings([...namespaces].sort().map((namespace) => ({ namespace, file: layerSchemaPath(namespace) })));
}

export interface SchemaExportOptions {
  files: RepoFiles;
  /** The repository root on disk, where the files go. */
  root: string;
  /** Write nothing: report which files differ from what export would write (CI). */
  check?: boolean;
  /** false: leave `.vscode/settings.json` alone. */
  vscode?: boolean;
}

export interface SchemaExportResult {
  /** Problems in the schema files; with errors, nothing is written. */
  findings: Finding[];
  /** Files written (or, with `check`, that would be), repository-relative. */
  changed: string[];
  /** Files already as export would write them. */
  unchanged: string[];
  /** Layer schemas of namespaces that no longer exist: removed (or, with `check`, that would be). */
  removed: string[];
  namespaces: string[];
}

export async function exportSchemas(options: SchemaExportOptions): Promise<SchemaExportResult> {
  // The schemas alone: no values, no secrets, no compiled validators (like typegen).
  const repo = await loadRepository(options.files, { environments: new Set(), secrets: null, compile: false });
  const findings = repo.findings.filter(
    (f) => f.file !== null && (f.file.startsWith("schemas/") || f.file === "strata.yaml"),
  );
  const result: SchemaExportResult = { findings, changed: [], unchanged: [], removed: [], namespaces: repo.namespaces };
  if (findings.some((f) => f.severity === "error")) return result;

  const wanted = editorSchemaFiles(
    repo.namespaces.map((ns) => {
      const s = repo.schemas.get(ns)!;
      return { namespace: ns, file: s.file, schema: s.schema };
    }),
  );
  // Every file is read (merged into, compared) and written inside the repository only: a committed link
  // out of it (`.vscode/settings.json -> ~/.bashrc`) is refused, one inside it replaced by the file.
  const read = (path: string): Promise<string | null> => readFileToMerge(join(options.root, path), options.root, path);
  if (options.vscode !== false) {
    wanted[VSCODE_SETTINGS_PATH] = mergeEditorSettings(
      await read(VSCODE_SETTINGS_PATH),
      editorSettingsEntries(repo.namespaces),
      VSCODE_SETTINGS_PATH,
    );
  }
  for (const [path, text] of Object.entries(wanted)) {
    if ((await read(path)) === text) result.unchanged.push(path);
    else result.changed.push(path);
  }
  const dir = join(options.root, LAYER_SCHEMA_DIR);
  if (pathExists(dir)) {
    // Listed (and pruned) only when the directory itself is inside the repository.
    await checkInside(dir, options.root, LAYER_SCHEMA_DIR);
    for (const name of (await listDirectory(dir)).sort()) {
      const path = `${LAYER_SCHEMA_DIR}/${name}`;
      if (name.endsWith(LAYER_SUFFIX) && !Object.hasOwn(wanted, path)) result.removed.push(path);
    }
  }
  if (options.check) return result;
  for (const path of result.changed)
    await writeFileInside(join(options.root, path), wanted[path]!, {
      within: options.root,
      createDirectories: true,
      label: path,
    });
  for (const path of result.removed) await removeFile(join(options.root, path));
  return result;
}
