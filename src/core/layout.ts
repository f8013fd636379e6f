/**
 * The repository layout (docs/reference.md, "The configuration repository"): which paths strata reads and
 * what each one is. The one classifier: the loader, the diff planner, `log` and the result cache all ask
 * here, so they can never disagree about which files are configuration.
 */
import { findingAt, type Finding } from "./findings.js";
import { isValidName, NAME_RULE } from "./names.js";
import { SETTINGS_FILE } from "./settings/settings.js";

export type ConfigPath =
  | { kind: "settings"; path: string }
  | { kind: "schema"; namespace: string; path: string }
  | { kind: "values"; environment: string; namespace: string; path: string; encrypted: boolean };

/**
 * What a repository path is: configuration, a located `invalid-name` finding for a file that looks like
 * configuration but is misnamed (strata does not read it), or null for everything else.
 */
export function classifyPath(path: string): ConfigPath | Finding | null {
  if (path === SETTINGS_FILE) return { kind: "settings", path };
  // A misnamed file has no useful position inside it: the finding points at its first line.
  const misnamed = (message: string, extra: { hint?: string; environment?: string } = {}): Finding =>
    findingAt("invalid-name", { file: path, line: 1, column: 1 }, message, extra);
  let m = /^schemas\/([^/]+)\.schema\.(yaml|yml|json)$/.exec(path);
  if (m) {
    const [, ns, ext] = m as unknown as [string, string, string];
    if (ext === "yml")
      return misnamed("schema files end in .yaml or .json", {
        hint: `rename it to ${path.replace(/\.yml$/, ".yaml")}`,
      });
    if (!isValidName(ns)) return misnamed(`invalid namespace name "${ns}"`, { hint: nameHint("namespace") });
    return { kind: "schema", namespace: ns, path };
  }
  m = /^environments\/([^/]+)\/([^/]+?)(\.sops)?\.(yaml|yml)$/.exec(path);
  if (m) {
    const [, env, ns, sops, ext] = m as unknown as [string, string, string, string | undefined, string];
    if (ext === "yml")
      return misnamed("values files end in .yaml", { hint: `rename it to ${path.replace(/\.yml$/, ".yaml")}` });
    if (!isValidName(env))
      return misnamed(`invalid environment name "${env}"`, { environment: env, hint: nameHint("environment") });
    if (!isValidName(ns))
      return misnamed(`invalid namespace name "${ns}"`, { environment: env, hint: nameHint("namespace") });
    return { kind: "values", environment: env, namespace: ns, path, encrypted: sops !== undefined };
  }
  if (/^environments\/[^/]+\/[^/]+\.(json|toml)$/.test(path))
    return misnamed("values files are YAML (<namespace>.yaml or <namespace>.sops.yaml)");
  return null;
}

/** The path as configuration, or null when strata does not read it (misnamed files included). */
export function configPathOf(path: string): ConfigPath | null {
  const c = classifyPath(path);
  return c === null || "code" in c ? null : c;
}

const nameHint = (what: string): string => `${what} ${NAME_RULE}`;
