/** Presenting an effective config: redaction of sensitive leaves and the env-file form (docs/reference.md). */
import type { JsonObject, JsonValue } from "./json.js";
import { splitKey } from "./names.js";
import type { LeafInfo, ResolvedEnvironment } from "./model.js";

export const SENSITIVE_PLACEHOLDER = "<sensitive>";

/** The effective config with every sensitive leaf replaced by "<sensitive>". */
export function redactConfig(resolved: ResolvedEnvironment): Record<string, JsonObject> {
  const out = structuredClone(resolved.config);
  for (const leaf of resolved.leaves.values()) if (leaf.sensitive) setLeaf(out, leaf.path, SENSITIVE_PLACEHOLDER);
  return out;
}

/** The text of every sensitive leaf (each scalar inside a sensitive array or object too), for masks. */
export function sensitiveValues(leaves: Iterable<LeafInfo>): string[] {
  const out: string[] = [];
  const add = (v: JsonValue): void => {
    if (Array.isArray(v)) v.forEach(add);
    else if (v !== null && typeof v === "object") Object.values(v).forEach(add);
    else if (v !== null) out.push(String(v));
  };
  for (const leaf of leaves) if (leaf.sensitive) add(leaf.value);
  return out;
}

function setLeaf(root: Record<string, JsonValue>, path: string, value: JsonValue): void {
  const parts = splitKey(path);
  let node: JsonValue = root;
  for (const p of parts.slice(0, -1)) {
    node = (node as Record<string | number, JsonValue>)[p as string] ?? null;
    if (node === null || typeof node !== "object") return;
  }
  (node as Record<string | number, JsonValue>)[parts[parts.length - 1] as string] = value;
}

/** The value at a dotted key (`database.pool`), or undefined. */
export function valueAt(config: Record<string, JsonValue>, key: string): JsonValue | undefined {
  let node: JsonValue | undefined = config;
  for (const p of splitKey(key)) {
    if (node === null || typeof node !== "object") return undefined;
    if (Array.isArray(node)) node = typeof p === "number" ? node[p] : undefined;
    else node = Object.hasOwn(node, p) ? (node as JsonObject)[p] : undefined;
  }
  return node;
}

export function envName(path: string): string {
  return splitKey(path)
    .map((p) => String(p))
    .join("_")
    .toUpperCase()
    .replace(/-/g, "_");
}

/** Single-quoted POSIX shell word. */
export function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** A leaf's text as an environment variable's value: strings as they are, the rest as compact JSON. */
function leafText(value: JsonValue): string {
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return value === null ? "null" : String(value);
}

/** One leaf as an environment variable. */
export interface EnvVariable {
  name: string;
  text: string;
  leaf: LeafInfo;
}

export interface EnvVariables {
  variables: EnvVariable[];
  /** [name, first path, second path]: two keys that would become the same variable. */
  collisions: [string, string, string][];
}

/** Whether a leaf path is `prefix` or under it (every leaf when prefix is null). */
export function isUnderPrefix(path: string, prefix: string | null): boolean {
  return !prefix || path === prefix || path.startsWith(`${prefix}.`) || path.startsWith(`${prefix}[`);
}

/**
 * Every leaf under `prefix` as a variable named as in the env format (`database.pool.max` ->
 * `DATABASE_POOL_MAX`), sensitive ones included: callers decide what to leave out. The env, dotenv,
 * configmap/secret formats and `strata exec` all name variables here, so they agree.
 */
export function envVariables(leaves: Iterable<LeafInfo>, prefix: string | null): EnvVariables {
  const variables: EnvVariable[] = [];
  const collisions: [string, string, string][] = [];
  const byName = new Map<string, string>();
  for (const leaf of leaves) {
    if (!isUnderPrefix(leaf.path, prefix)) continue;
    const name = envName(leaf.path);
    const other = byName.get(name);
    if (other !== undefined) {
      collisions.push([name, other, leaf.path]);
      continue;
    }
    byName.set(name, leaf.path);
    variables.push({ name, text: leafText(leaf.value), leaf });
  }
  return { variables, collisions };
}

export interface EnvLines {
  lines: string[];
  omitted: string[];
  collisions: [string, string, string][];
}

/** `NAME='value'` lines for the leaves under `prefix` (all when null). */
export function renderEnvLines(
  leaves: Iterable<LeafInfo>,
  options: { showSecrets: boolean; prefix: string | null },
): EnvLines {
  const { variables, collisions } = envVariables(leaves, options.prefix);
  const lines: string[] = [];
  const omitted: string[] = [];
  for (const v of variables) {
    if (v.leaf.sensitive && !options.showSecrets) {
      omitted.push(v.leaf.path);
      continue;
    }
    lines.push(`${v.name}=${shellQuote(v.text)}`);
  }
  return { lines, omitted, collisions };
}
