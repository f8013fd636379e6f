/**
 * Presenting an effective config: redaction of sensitive leaves, key lookup, and the name and text of a leaf
 * as a variable (render/variables.ts builds the variables; render/formats.ts is the table of formats).
 */
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

/** A dotted key as a variable name (`database.pool-max` -> `DATABASE_POOL_MAX`), for render/variables.ts. */
export function envName(path: string): string {
  return splitKey(path)
    .map((p) => String(p))
    .join("_")
    .toUpperCase()
    .replace(/-/g, "_");
}

/**
 * A leaf's text as a variable's value: strings as they are, the rest as compact JSON, so `null` is the
 * text `null` (distinct from the empty string) in every variable format.
 */
export function leafText(value: JsonValue): string {
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return value === null ? "null" : String(value);
}
