/** The effective tree: values with the provenance of every node (docs/reference.md, resolution). */
import type { JsonPrimitive, JsonValue } from "../json.js";
import type { Origin } from "../model.js";
import type { LNode, Pos } from "../yaml/nodes.js";

export type ENode = EMap | ESeq | EScalar;

interface EBase {
  /** The layer that set this node. For maps: the first layer that created it. */
  origin: Origin;
  /** Position of the key that introduced the node, for errors about the key itself. */
  keyPos: Pos | null;
  /** Earlier layers this node replaced, oldest first. */
  overridden: Origin[];
  sensitive: boolean;
  ciphertextOnly?: boolean;
  /** From a SOPS file: the value is exactly what was encrypted, never interpolated or unescaped. */
  literal?: boolean;
  /**
   * Memos of a map or array, set on first use (a field rather than a WeakMap: these are most of the lookups
   * of a validate, and a large WeakMap also costs the garbage collector). A copy with other children must
   * not carry them: build such a node field by field, or reset both (see {@link withChildren}).
   */
  json?: JsonValue;
  /** Whether a string with `$` is somewhere below (interpolation). */
  mayReference?: boolean;
}
export interface EMap extends EBase {
  kind: "map";
  entries: Map<string, ENode>;
}
export interface ESeq extends EBase {
  kind: "seq";
  items: ENode[];
}
export interface EScalar extends EBase {
  kind: "scalar";
  value: JsonPrimitive;
}

export function originOf(pos: Pos, environment: string | null): Origin {
  return { environment, file: pos.file, line: pos.line, column: pos.column };
}

export interface LayerContext {
  environment: string | null;
  sensitive: boolean;
  ciphertextOnly?: boolean;
  literal?: boolean;
}

/** An empty `overridden`, shared: nodes that replaced nothing are most nodes, and nothing mutates the list. */
const NOTHING_OVERRIDDEN: Origin[] = Object.freeze([]) as unknown as Origin[];

/** A fresh effective node for a layer value (no inheritance). `!unset` inside is dropped by the caller. */
export function fromLayer(node: LNode, ctx: LayerContext, keyPos: Pos | null): ENode | undefined {
  // Built field by field, one shape per kind (no spreads): every value of every layer goes through here.
  let out: ENode;
  const origin = originOf(node.pos, ctx.environment);
  switch (node.kind) {
    case "unset":
      return undefined;
    case "scalar":
      out = {
        origin,
        keyPos,
        overridden: NOTHING_OVERRIDDEN,
        sensitive: ctx.sensitive,
        kind: "scalar",
        value: node.value,
      };
      break;
    case "seq": {
      const items: ENode[] = [];
      for (const item of node.items) {
        const e = fromLayer(item, ctx, null);
        if (e) items.push(e);
      }
      out = { origin, keyPos, overridden: NOTHING_OVERRIDDEN, sensitive: ctx.sensitive, kind: "seq", items };
      break;
    }
    case "map": {
      const entries = new Map<string, ENode>();
      for (const [k, e] of node.entries) {
        const v = fromLayer(e.value, ctx, e.keyPos);
        if (v) entries.set(k, v);
      }
      out = { origin, keyPos, overridden: NOTHING_OVERRIDDEN, sensitive: ctx.sensitive, kind: "map", entries };
      break;
    }
  }
  if (ctx.ciphertextOnly) out.ciphertextOnly = true;
  if (ctx.literal) out.literal = true;
  return out;
}

export function fromJson(value: JsonValue, origin: Origin, sensitive: boolean): ENode {
  const base = { origin, keyPos: null, overridden: NOTHING_OVERRIDDEN, sensitive };
  if (Array.isArray(value)) return { ...base, kind: "seq", items: value.map((v) => fromJson(v, origin, sensitive)) };
  if (value !== null && typeof value === "object") {
    const entries = new Map<string, ENode>();
    for (const [k, v] of Object.entries(value)) entries.set(k, fromJson(v, origin, sensitive));
    return { ...base, kind: "map", entries };
  }
  return { ...base, kind: "scalar", value };
}

export function toJson(node: ENode): JsonValue {
  switch (node.kind) {
    case "scalar":
      return node.value;
    case "seq":
      return node.items.map(toJson);
    case "map": {
      const out: Record<string, JsonValue> = {};
      for (const [k, v] of node.entries) out[k] = toJson(v);
      return out;
    }
  }
}

/**
 * toJson, memoized per node: merged trees share unchanged subtrees between environments, and so do
 * their JSON forms. The results are shared: callers must not mutate them.
 */
export function toJsonShared(node: ENode): JsonValue {
  // Scalars are most nodes and are never memoized.
  if (node.kind === "scalar") return node.value;
  if (node.json !== undefined) return node.json;
  let out: JsonValue;
  if (node.kind === "seq") out = node.items.map(toJsonShared);
  else {
    const obj: Record<string, JsonValue> = {};
    for (const [k, v] of node.entries) obj[k] = toJsonShared(v);
    out = obj;
  }
  node.json = out;
  return out;
}

/** A copy of a map or array with other children: everything else kept, the memos of the old children dropped. */
export function withChildren<T extends EMap | ESeq>(node: T, children: Partial<T>): T {
  return { ...node, ...children, json: undefined, mayReference: undefined };
}

/** Every origin that contributed to a subtree: what a replacement overrides. */
export function originsIn(node: ENode): Origin[] {
  if (node.kind === "scalar" || node.kind === "seq") return [...node.overridden, node.origin];
  if (node.entries.size === 0) return [...node.overridden, node.origin];
  const out: Origin[] = [];
  for (const v of node.entries.values()) out.push(...originsIn(v));
  return out;
}
