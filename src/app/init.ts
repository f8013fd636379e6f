/**
 * `strata init`: scaffold a configuration repository (docs/reference.md) that validates as written, or
 * (`--existing`) add what an existing one lacks: the editor schemas, the workflow, `.sops.yaml` and the
 * `.gitignore` lines, leaving every file that is there alone.
 */
import { join } from "node:path";
import { parse as parseYamlText } from "yaml";
import { mergeEditorSettings } from "../core/editor-settings.js";
import { isStrataError, StrataError } from "../core/findings.js";
import type { JsonObject } from "../core/json.js";
import {
  ensureDirectory,
  entryExists,
  pathExists,
  readFileToMerge,
  readTextFile,
  writeFileInside,
} from "../io/fs/files.js";
import { readDefaultBranchName } from "../io/git/default-branch.js";
import { createWorktreeFiles } from "../io/repo/worktree.js";
import {
  editorSchemaFiles,
  editorSettingsEntries,
  exportSchemas,
  SETTINGS_SCHEMA_PATH,
  VSCODE_SETTINGS_PATH,
} from "./schema-export.js";

/** The placeholder pin of strata's own action in the workflow template (every job fails until it is filled). */
const ACTION_PLACEHOLDER = "strata-config/strata@0000000000000000000000000000000000000000";
const ACTION_PIN = /^(\s*(?:- )?uses: strata-config\/strata@)0{40}( # v)[^\s]+$/gm;

export interface WorkflowChoices {
  /** The commit of strata's release to pin (40 hex digits), or null to leave the placeholder. */
  actionRef?: string | null;
  /** The repository's default branch (the `push:` trigger); default: found by git, else main. */
  defaultBranch?: string | null;
  /** The strata version the pins name in their comment. */
  version: string;
}

/** A full commit SHA: a tag or branch can be moved to other code, a commit cannot. */
export function checkActionRef(ref: string): string {
  if (!/^[0-9a-f]{40}$/.test(ref))
    throw new StrataError("invalid-argument", `--action-ref ${JSON.stringify(ref)} is not a full commit SHA`, {
      hint: "pin the 40-hex-digit commit of the strata release, e.g. from `git ls-remote https://github.com/strata-config/strata refs/tags/vX.Y.Z`",
    });
  return ref;
}

/**
 * The workflow template for this repository: strata's action pinned to `actionRef` (the version in the
 * comment), and the push trigger on its default branch.
 */
export function fillWorkflow(template: string, choices: WorkflowChoices): string {
  let text = template;
  const sha = choices.actionRef ? checkActionRef(choices.actionRef) : "0".repeat(40);
  text = text.replace(ACTION_PIN, (_m, head: string, comment: string) => `${head}${sha}${comment}${choices.version}`);
  const branch = choices.defaultBranch ?? "main";
  if (branch !== "main") {
    if (!/^[A-Za-z0-9_][A-Za-z0-9._/+@-]*$/.test(branch) || branch.includes(".."))
      throw new StrataError(
        "invalid-argument",
        `the default branch ${JSON.stringify(branch)} cannot go into the workflow as written`,
        {
          hint: "name it with --default-branch, using letters, digits and . _ / + @ -",
        },
      );
    text = text.replace(/^(\s+branches: )\[main\]$/m, `$1[${branch}]`);
  }
  return text;
}

/** The default branch for the workflow of a repository in `dir`: `--default-branch`, else git's, else main. */
export async function workflowBranch(dir: string, given?: string | null): Promise<string> {
  return given ?? (await readDefaultBranchName(dir)) ?? "main";
}

/** Whether a workflow still pins strata's action to the placeholder. */
export function hasActionPlaceholder(workflow: string): boolean {
  return workflow.includes(ACTION_PLACEHOLDER);
}

/** What `.gitignore` must keep out of git: decrypted files, signing keys, token files, the local store. */
const GITIGNORE_LINES = ["*.dec.yaml", "*.pem", "strata-tokens.json", ".strata/store/", ".strata-cache/"];
const GITIGNORE = `# strata: decrypted files, signing keys (strata keys generate), endpoint token files (strata serve token
# create) and the local snapshot store (strata serve's default file:.strata/store) never belong in git.
${GITIGNORE_LINES.join("\n")}
`;

/** The sample files of a new repository, without the files derived from them (see scaffoldFiles). */
function sampleFiles(workflow: string): Record<string, string> {
  return {
    "strata.yaml": `# yaml-language-server: $schema=${SETTINGS_SCHEMA_PATH}
version: 1
environments:
  base:       { abstract: true, description: Shared defaults }
  staging:    { parent: base, description: Pre-production }
  production: { parent: base, production: true, description: Serves customers }
# runtime:
#   recipients:            # age recipients of the services that read snapshots
#     production: [age1...]
signing:
  trusted_keys: []       # keys whose snapshots are trusted: strata keys generate adds its public key here
# distribution:
#   endpoint: http://127.0.0.1:7070
approvals:
  rules:
    - name: production
      when: { environments: ["production*"] }
      require: 1
      from: ["@your-org/sre"]
`,
    "schemas/app.schema.yaml": `$schema: https://json-schema.org/draft/2020-12/schema
title: app
description: Settings of the app service
type: object
additionalProperties: false
required: [name]
properties:
  name:
    type: string
    description: Service name, as it appears in logs
  log_level:
    type: string
    enum: [debug, info, warn, error]
    default: info
  replicas:
    type: integer
    minimum: 1
    maximum: 100
    default: 1
    x-restart-required: true
  base_url:
    type: string
    format: uri
    description: Public URL of the service
  api_token:
    type: string
    x-sensitive: true
    description: "Token for the upstream API. A secret: after adding your age key to .sops.yaml, set it with
      strata secrets set environments/production/app.sops.yaml api_token VALUE"
`,
    "environments/base/app.yaml": `name: app
base_url: https://app.internal.example.com
`,
    "environments/staging/app.yaml": `log_level: debug
base_url: https://staging.app.example.com
`,
    "environments/production/app.yaml": `replicas: 3
base_url: https://app.example.com
`,
    ".sops.yaml": `# SOPS creation rules: which keys encrypt which files (used by strata secrets and by sops).
# Before the first secret: create an age key (age-keygen -o ~/.config/sops/age/keys.txt prints its public
# key) and list the public key under age: (several: comma-separated). Then
#   strata secrets set environments/production/app.sops.yaml api_token VALUE
# creates the file encrypted for it.
creation_rules:
  - path_regex: environments/.*\\.sops\\.yaml$
    age: []
`,
    ".github/workflows/strata.yml": workflow,
    ".gitignore": GITIGNORE,
  };
}

/** Every file `strata init` writes into a new repository: the samples and their editor schemas. */
export function scaffoldFiles(workflow: string): Record<string, string> {
  const files = sampleFiles(workflow);
  const schemas = Object.entries(files)
    .filter(([path]) => /^schemas\/[^/]+\.schema\.yaml$/.test(path))
    .map(([path, text]) => ({
      namespace: path.slice("schemas/".length, -".schema.yaml".length),
      file: path,
      schema: parseYamlText(text) as JsonObject,
    }));
  return {
    ...files,
    ...editorSchemaFiles(schemas),
    [VSCODE_SETTINGS_PATH]: mergeEditorSettings(
      null,
      editorSettingsEntries(schemas.map((s) => s.namespace)),
      VSCODE_SETTINGS_PATH,
    ),
  };
}

export async function initRepository(dir: string, workflow: string): Promise<string[]> {
  const files = scaffoldFiles(workflow);
  // Check everything first, so init never half-writes over an existing repository.
  const existing = Object.keys(files).filter((p) => entryExists(join(dir, p)));
  if (entryExists(join(dir, "strata.yaml")) || existing.length) {
    throw new StrataError(
      "invalid-argument",
      `${dir} already has ${existing.join(", ") || "strata.yaml"}; init writes only into a new repository`,
      { hint: "adopt an existing repository with `strata init --existing`: it writes only what is missing" },
    );
  }
  await ensureDirectory(dir); // the directory named (and its parents) is the user's to create
  for (const [path, content] of Object.entries(files)) {
    // Inside `dir` only: a directory on the way that is a link out of it is refused (io/fs/write-atomic.ts).
    await writeFileInside(join(dir, path), content, {
      within: dir,
      exclusive: true,
      createDirectories: true,
      label: path,
    });
  }
  return Object.keys(files);
}

export interface AdoptResult {
  /** Files created or (editor schemas, .vscode/settings.json, .gitignore) brought up to date. */
  written: string[];
  /** Files that were there and were left as they are, each with why it matters (or null). */
  leftAlone: { path: string; note: string | null }[];
  /** The text of .github/workflows/strata.yml after the adoption (null when there is none). */
  workflow: string | null;
}

/**
 * `strata init --existing`: adopt a directory that already has files. Without a strata.yaml it gets
 * the whole scaffold except the files it has; with one, only the repository-wide files (the samples
 * would add a namespace and environments nobody asked for) and the editor schemas of its own
 * namespaces. `.gitignore` gets the missing lines appended; nothing else that exists is changed.
 */
export async function adoptRepository(
  dir: string,
  workflow: string,
  options: { actionRef?: string | null } = {},
): Promise<AdoptResult> {
  const result: AdoptResult = { written: [], leftAlone: [], workflow: null };
  await ensureDirectory(dir);
  const hasSettings = pathExists(join(dir, "strata.yaml"));
  const all = scaffoldFiles(workflow);
  const wanted = hasSettings
    ? Object.fromEntries(
        Object.entries(all).filter(([path]) =>
          [".sops.yaml", ".github/workflows/strata.yml", ".gitignore"].includes(path),
        ),
      )
    : Object.fromEntries(
        Object.entries(all).filter(([path]) => !path.startsWith(".strata/") && path !== VSCODE_SETTINGS_PATH),
      );
  for (const [path, content] of Object.entries(wanted)) {
    const full = join(dir, path);
    if (path === ".gitignore" && entryExists(full)) {
      // Merged into: read and rewritten inside `dir`, never through a link out of it.
      const text = (await readFileToMerge(full, dir, path)) ?? "";
      const have = text.split(/\r?\n/).map((l) => l.trim());
      const missing = GITIGNORE_LINES.filter((l) => !have.includes(l));
      if (missing.length === 0) result.leftAlone.push({ path, note: null });
      else {
        await writeFileInside(
          full,
          `${text}${text === "" || text.endsWith("\n") ? "" : "\n"}# strata\n${missing.join("\n")}\n`,
          { within: dir, label: path },
        );
        result.written.push(`${path} (appended ${missing.join(" ")})`);
      }
      continue;
    }
    if (entryExists(full)) {
      // The one edit of an existing file: strata's own placeholder pin, when a commit to pin is given.
      if (path === ".github/workflows/strata.yml" && options.actionRef) {
        const text = await readTextFile(full);
        if (hasActionPlaceholder(text)) {
          const sha = checkActionRef(options.actionRef);
          await writeFileInside(full, text.replace(/(uses: strata-config\/strata@)0{40}/g, `$1${sha}`), {
            within: dir,
          });
          result.written.push(`${path} (strata's action pinned to ${sha})`);
          continue;
        }
      }
      result.leftAlone.push({ path, note: null });
      continue;
    }
    await writeFileInside(full, content, { within: dir, exclusive: true, createDirectories: true, label: path });
    result.written.push(path);
  }
  if (hasSettings) {
    const settings = await readTextFile(join(dir, "strata.yaml"));
    const modeline = `# yaml-language-server: $schema=${SETTINGS_SCHEMA_PATH}`;
    result.leftAlone.push({
      path: "strata.yaml",
      note: settings.includes(modeline) ? null : `add \`${modeline}\` as its first line for editor support`,
    });
  }
  // The editor schemas of the namespaces the repository has (which may be none yet).
  let exported;
  try {
    exported = await exportSchemas({ files: createWorktreeFiles(dir), root: dir });
  } catch (error) {
    // An unreadable .vscode/settings.json is the user's to fix; the rest of the adoption stands.
    if (!isStrataError(error) || error.code !== "invalid-argument") throw error;
    result.leftAlone.push({
      path: VSCODE_SETTINGS_PATH,
      note: `${error.message}; fix it, then run strata schema export`,
    });
    return withWorkflow(dir, result);
  }
  if (exported.findings.some((f) => f.severity === "error")) {
    result.leftAlone.push({
      path: ".strata/schemas/",
      note: "not exported: the schemas have errors (strata validate shows them; then run strata schema export)",
    });
  } else {
    result.written.push(...exported.changed, ...exported.removed.map((p) => `${p} (removed)`));
    result.leftAlone.push(...exported.unchanged.map((path) => ({ path, note: "already up to date" })));
  }
  return withWorkflow(dir, result);
}

async function withWorkflow(dir: string, result: AdoptResult): Promise<AdoptResult> {
  const path = join(dir, ".github/workflows/strata.yml");
  return { ...result, workflow: pathExists(path) ? await readTextFile(path) : null };
}
