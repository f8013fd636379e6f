/**
 * Merging one layer into the inherited value without provenance: plain JSON in, plain JSON out, for
 * `validate`'s clean path ({@link Resolver.cleanConfig}). It covers only what merges without a finding and
 * gives up (`UNDECIDED`) on everything else, so that the full merge (merge.ts), which locates every finding,
 * is the only one that ever reports. Where it decides, the value is the JSON form of what applyLayer builds
 * (the same keys in the same order): unchanged subtrees are shared, nothing is mutated.
 */
import type { JsonObject, JsonValue } from "../json.js";
import type { KeyMetadata } from "../model.js";
import type { LMap, LNode } from "../yaml/nodes.js";

/** The layer needs the full merge: it would report something there, or this path does not model it. */
export const UNDECIDED: unique symbol = Symbol("undecided");
type Undecided = typeof UNDECIDED;

export interface PlainMergeContext {
  /** Schema metadata for a path under the namespace (x-merge, x-sensitive, x-deprecated). */
  metadata(path: readonly (string | number)[]): KeyMetadata;
  /** A plain file of a namespace with sensitive keys: setting one is a finding (checked at every node). */
  plain: boolean;
  /** The namespace deprecates keys: setting one is a finding (checked at every key reached through maps). */
  deprecating: boolean;
  /** From an encrypted file: strings are never interpolated, so a `$` in one means nothing. */
  literal: boolean;
  /** Set when the layer holds a string with `$` that interpolation would read. */
  dollar: boolean;
}

const UNSET_ITEM_KEY = "$unset";

/**
 * applyLayer's result as JSON, for a layer that is a map; `UNDECIDED` wherever applyLayer or the
 * deprecated-key check would report something: an `!unset` (reported when it unsets nothing; it also
 * locates missing keys), a `$unset` key, a sensitive key in a plain file, a deprecated key, an array item
 * merged by a field that lacks the field, repeats it or removes nothing. Also for a `__proto__` key, whose
 * JSON form only the full path builds.
 */
export function mergePlainLayer(base: JsonObject, layer: LMap, ctx: PlainMergeContext): JsonObject | Undecided {
  return mergeValue(base, layer, ctx, []) as JsonObject | Undecided;
}

/** applyLayer: a node of a layer over what it inherits. */
function mergeValue(
  base: JsonValue | undefined,
  layer: LNode,
  ctx: PlainMergeContext,
  path: (string | number)[],
): JsonValue | Undecided {
  if (layer.kind === "unset") return UNDECIDED;
  if (ctx.plain && ctx.metadata(path).sensitive) return UNDECIDED;
  switch (layer.kind) {
    case "scalar":
      return scalar(layer.value, ctx);
    case "map": {
      // A map replaces anything that is not a map; over a map it keeps the inherited keys in their order
      // and appends new ones, as the Map of the full merge does.
      const inherited = isObject(base) ? base : null;
      const out: JsonObject = inherited ? { ...inherited } : {};
      for (const [key, entry] of layer.entries) {
        if (key === UNSET_ITEM_KEY || key === "__proto__") return UNDECIDED;
        const at = [...path, key];
        // (Inside arrays too, where the full path does not look: undecided there costs a full merge, no more.)
        if (ctx.deprecating && ctx.metadata(at).deprecated) return UNDECIDED;
        const value = mergeValue(
          inherited && Object.hasOwn(inherited, key) ? inherited[key] : undefined,
          entry.value,
          ctx,
          at,
        );
        if (value === UNDECIDED) return UNDECIDED;
        out[key] = value;
      }
      return out;
    }
    case "seq": {
      const how = ctx.metadata(path).merge ?? "replace";
      const baseItems = Array.isArray(base) ? base : [];
      if (how === "replace" || how === "append") {
        const items = plainItems(layer.items, ctx);
        if (items === UNDECIDED) return UNDECIDED;
        return how === "append" ? [...baseItems, ...items] : items;
      }
      return mergeByField(baseItems, layer.items, ctx, path, how.by);
    }
  }
}

/** merge.ts's mergeByField for items that merge without a finding. */
function mergeByField(
  baseItems: readonly JsonValue[],
  items: readonly LNode[],
  ctx: PlainMergeContext,
  path: (string | number)[],
  field: string,
): JsonValue[] | Undecided {
  const result = [...baseItems];
  const seen = new Set<string>();
  for (const item of items) {
    if (item.kind !== "map") return UNDECIDED;
    const keyValue = item.entries.get(field)?.value;
    if (keyValue?.kind !== "scalar" || keyValue.value === null || typeof keyValue.value === "object") return UNDECIDED;
    const id = JSON.stringify(keyValue.value);
    if (seen.has(id)) return UNDECIDED;
    seen.add(id);
    const at = result.findIndex((x) => {
      if (!isObject(x) || !Object.hasOwn(x, field)) return false;
      const v = x[field];
      return (v === null || typeof v !== "object") && JSON.stringify(v) === id;
    });
    const unsetEntry = item.entries.get(UNSET_ITEM_KEY);
    if (unsetEntry) {
      // `$unset: true` of an item a parent layer has removes it; anything else is a finding.
      if (unsetEntry.value.kind !== "scalar" || unsetEntry.value.value !== true || at < 0) return UNDECIDED;
      result.splice(at, 1);
      continue;
    }
    const merged = at >= 0 ? mergeValue(result[at], item, ctx, [...path, at]) : plainValue(item, ctx);
    if (merged === UNDECIDED) return UNDECIDED;
    if (at >= 0) result[at] = merged;
    else result.push(merged);
  }
  return result;
}

/** Array items as fromLayer converts them: whole values, no merge and no metadata below. */
function plainItems(items: readonly LNode[], ctx: PlainMergeContext): JsonValue[] | Undecided {
  const out: JsonValue[] = [];
  for (const item of items) {
    const value = plainValue(item, ctx);
    if (value === UNDECIDED) return UNDECIDED;
    out.push(value);
  }
  return out;
}

/** fromLayer's value as JSON; an `!unset` inside an array item is a finding (and is dropped here). */
function plainValue(node: LNode, ctx: PlainMergeContext): JsonValue | Undecided {
  switch (node.kind) {
    case "unset":
      return UNDECIDED;
    case "scalar":
      return scalar(node.value, ctx);
    case "seq":
      return plainItems(node.items, ctx);
    case "map": {
      const out: JsonObject = {};
      for (const [key, entry] of node.entries) {
        if (key === UNSET_ITEM_KEY || key === "__proto__") return UNDECIDED;
        const value = plainValue(entry.value, ctx);
        if (value === UNDECIDED) return UNDECIDED;
        out[key] = value;
      }
      return out;
    }
  }
}

function scalar<T extends JsonValue>(value: T, ctx: PlainMergeContext): T {
  if (!ctx.literal && typeof value === "string" && value.includes("$")) ctx.dollar = true;
  return value;
}

/** Whether any string below has a `$` (the schema defaults' share of {@link PlainMergeContext.dollar}). */
export function holdsDollar(value: JsonValue): boolean {
  if (typeof value === "string") return value.includes("$");
  if (Array.isArray(value)) return value.some(holdsDollar);
  if (value !== null && typeof value === "object") return Object.values(value).some(holdsDollar);
  return false;
}

function isObject(value: JsonValue | undefined): value is JsonObject {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}
