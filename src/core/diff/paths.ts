/** What a repository path is to resolution (docs/reference.md, the repository layout), for the planner and the blast radius. */
export type ConfigPath =
  | { kind: "settings" }
  | { kind: "schema"; namespace: string }
  | { kind: "values"; environment: string; namespace: string; encrypted: boolean };

const SCHEMA = /^schemas\/([^/]+)\.schema\.(?:ya?ml|json)$/;
const VALUES = /^environments\/([^/]+)\/([^/]+?)(\.sops)?\.ya?ml$/;

/** null: the path does not feed resolution (README, .sops.yaml creation rules, workflows). */
export function parseConfigPath(path: string): ConfigPath | null {
  if (path === "strata.yaml" || path === "strata.yml") return { kind: "settings" };
  const s = SCHEMA.exec(path);
  if (s?.[1] !== undefined) return { kind: "schema", namespace: s[1] };
  const v = VALUES.exec(path);
  if (v?.[1] !== undefined && v[2] !== undefined)
    return { kind: "values", environment: v[1], namespace: v[2], encrypted: v[3] !== undefined };
  return null;
}

/** The namespace a leaf path belongs to: `database.pool.max` -> `database`. */
export function namespaceOf(key: string): string {
  const dot = key.indexOf(".");
  const bracket = key.indexOf("[");
  const end = [dot, bracket].filter((i) => i >= 0).reduce((a, b) => Math.min(a, b), key.length);
  return key.slice(0, end);
}

/** `A.x.y` -> `B.x.y` when namespace A is called B at the other side. */
export function renameKeyNamespace(key: string, renames: ReadonlyMap<string, string>): string {
  const ns = namespaceOf(key);
  const to = renames.get(ns);
  return to === undefined ? key : to + key.slice(ns.length);
}
