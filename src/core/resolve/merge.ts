/**
 * Applying one layer to the inherited effective tree (docs/reference.md: resolution steps 2–4, x-merge). Pure and
 * persistent: unchanged subtrees are shared, nothing is mutated, so environments can share the result
 * of their common ancestors.
 */
import { findingAt, type Finding } from "../findings.js";
import type { KeyMetadata } from "../model.js";
import { joinKey } from "../names.js";
import type { LMap, LNode, Pos } from "../yaml/nodes.js";
import {
  fromLayer,
  originOf,
  originsIn,
  withChildren,
  type EMap,
  type ENode,
  type ESeq,
  type LayerContext,
} from "./enode.js";

export interface MergeContext extends LayerContext {
  namespace: string;
  /** Schema metadata for a path under the namespace (x-merge, x-sensitive). */
  metadata(path: readonly (string | number)[]): KeyMetadata;
  findings: Finding[];
  /** `!unset`s applied, by dotted path, for locating missing-required at the `!unset`. */
  unsets: Map<string, Pos>;
  /** The layer is a plain file and the schema has sensitive keys: check that none is set here. */
  plain: boolean;
}

const UNSET_ITEM_KEY = "$unset";

export function applyLayer(
  base: ENode | undefined,
  layer: LNode,
  ctx: MergeContext,
  path: (string | number)[],
  keyPos: Pos | null,
): ENode | undefined {
  if (layer.kind === "unset") {
    const dotted = `${ctx.namespace}.${joinKey(path)}`;
    // The key is where the user wrote `!unset`; the empty scalar after the tag has no useful column.
    const at = keyPos ?? layer.pos;
    if (base === undefined) {
      ctx.findings.push(
        findingAt("unset-nothing", at, `!unset of ${dotted}, which nothing sets here`, {
          environment: ctx.environment,
          key: dotted,
        }),
      );
    }
    ctx.unsets.set(dotted, at);
    return undefined;
  }
  const meta = ctx.plain || layer.kind === "seq" ? ctx.metadata(path) : null;
  if (ctx.plain && meta?.sensitive) {
    reportSensitiveInPlaintext(layer, ctx, path);
    return base; // never let the plaintext value in
  }
  if (layer.kind === "map") return applyMap(base, layer, ctx, path, keyPos);
  if (layer.kind === "seq") return applySeq(base, layer, ctx, path, keyPos, meta?.merge ?? "replace");
  const fresh = fromLayer(layer, ctx, keyPos)!;
  if (base) fresh.overridden = originsIn(base);
  return fresh;
}

function reportSensitiveInPlaintext(layer: LNode, ctx: MergeContext, path: (string | number)[]): void {
  const dotted = `${ctx.namespace}.${joinKey(path)}`;
  ctx.findings.push(
    findingAt(
      "sensitive-in-plaintext",
      layer.pos,
      `${dotted} is x-sensitive and may only be set in an encrypted file`,
      {
        environment: ctx.environment,
        key: dotted,
        hint: `move it to the environment's .sops.yaml file (strata secrets set ${layer.pos.file.replace(/\.yaml$/, ".sops.yaml")} ${joinKey(path)} VALUE)`,
      },
    ),
  );
}

function applyMap(
  base: ENode | undefined,
  layer: LMap,
  ctx: MergeContext,
  path: (string | number)[],
  keyPos: Pos | null,
): ENode {
  const entries = base?.kind === "map" ? new Map(base.entries) : new Map<string, ENode>();
  for (const [key, entry] of layer.entries) {
    if (key === UNSET_ITEM_KEY) {
      const p = entry.keyPos;
      ctx.findings.push(
        findingAt(
          "invalid-key",
          p,
          `${UNSET_ITEM_KEY} is only allowed in an item of an array merged with x-merge: { by: … }`,
          { environment: ctx.environment, key: `${ctx.namespace}.${joinKey(path)}` },
        ),
      );
      continue;
    }
    const next = applyLayer(entries.get(key), entry.value, ctx, [...path, key], entry.keyPos);
    if (next === undefined) entries.delete(key);
    else entries.set(key, next);
  }
  if (base?.kind === "map") return withChildren(base, { entries, sensitive: base.sensitive || ctx.sensitive });
  const node: EMap = {
    kind: "map",
    entries,
    origin: originOf(layer.pos, ctx.environment),
    keyPos,
    overridden: base ? originsIn(base) : [],
    sensitive: ctx.sensitive,
  };
  return node;
}

function applySeq(
  base: ENode | undefined,
  layer: LNode & { kind: "seq" },
  ctx: MergeContext,
  path: (string | number)[],
  keyPos: Pos | null,
  how: KeyMetadata["merge"],
): ENode {
  const origin = originOf(layer.pos, ctx.environment);
  const overridden = base ? originsIn(base) : [];
  const baseItems = base?.kind === "seq" ? base.items : [];
  const childItems = (): ENode[] => {
    const out: ENode[] = [];
    layer.items.forEach((item, i) => {
      if (containsUnset(item)) {
        reportUnsetInArray(item, ctx, [...path, i]);
        return;
      }
      const e = fromLayer(item, ctx, null);
      if (e) out.push(e);
    });
    return out;
  };
  let items: ENode[];
  if (how === "append") items = [...baseItems, ...childItems()];
  else if (how !== null && typeof how === "object") items = mergeByField(baseItems, layer, ctx, path, how.by);
  else items = childItems();
  const node: ESeq = {
    kind: "seq",
    items,
    origin,
    keyPos,
    overridden,
    sensitive: ctx.sensitive || (base?.sensitive ?? false),
  };
  return node;
}

function containsUnset(node: LNode): boolean {
  if (node.kind === "unset") return true;
  if (node.kind === "seq") return node.items.some(containsUnset);
  if (node.kind === "map") for (const e of node.entries.values()) if (containsUnset(e.value)) return true;
  return false;
}

function reportUnsetInArray(item: LNode, ctx: MergeContext, path: (string | number)[]): void {
  const p = item.pos;
  ctx.findings.push(
    findingAt(
      "invalid-merge",
      p,
      `!unset inside an array item (${ctx.namespace}.${joinKey(path)}); remove items with x-merge: { by: … } and $unset: true`,
      { environment: ctx.environment, key: `${ctx.namespace}.${joinKey(path)}` },
    ),
  );
}

/**
 * `x-merge: { by: f }`: parent order kept; a child item whose `f` matches a parent item is deep-merged
 * into it; unmatched child items are appended in child order; `{ f: v, $unset: true }` removes one.
 */
function mergeByField(
  baseItems: ENode[],
  layer: LNode & { kind: "seq" },
  ctx: MergeContext,
  path: (string | number)[],
  field: string,
): ENode[] {
  const result = [...baseItems];
  const seen = new Set<string>();
  const dotted = `${ctx.namespace}.${joinKey(path)}`;
  layer.items.forEach((item, i) => {
    const p = item.pos;
    const keyValue = item.kind === "map" ? item.entries.get(field)?.value : undefined;
    if (
      item.kind !== "map" ||
      keyValue?.kind !== "scalar" ||
      keyValue.value === null ||
      typeof keyValue.value === "object"
    ) {
      ctx.findings.push(
        findingAt("invalid-merge", p, `item ${i} of ${dotted} has no "${field}" (the array merges by ${field})`, {
          environment: ctx.environment,
          key: dotted,
          hint: `every item needs a scalar "${field}"`,
        }),
      );
      return;
    }
    const id = JSON.stringify(keyValue.value);
    // Findings never quote a secret: items of an encrypted file are named by position only.
    const shown = ctx.sensitive ? `item ${i}` : `${field} = ${id}`;
    if (seen.has(id)) {
      ctx.findings.push(
        findingAt("invalid-merge", p, `two items of ${dotted} have the same ${field} in one file (${shown})`, {
          environment: ctx.environment,
          key: dotted,
        }),
      );
      return;
    }
    seen.add(id);
    const at = result.findIndex(
      (x) =>
        x.kind === "map" &&
        x.entries.get(field)?.kind === "scalar" &&
        JSON.stringify((x.entries.get(field) as { value: unknown }).value) === id,
    );
    const unsetEntry = item.entries.get(UNSET_ITEM_KEY);
    if (unsetEntry) {
      if (unsetEntry.value.kind !== "scalar" || unsetEntry.value.value !== true) {
        ctx.findings.push(
          findingAt("invalid-merge", p, `${UNSET_ITEM_KEY} must be true`, {
            environment: ctx.environment,
            key: dotted,
          }),
        );
        return;
      }
      if (at >= 0) result.splice(at, 1);
      else
        ctx.findings.push(
          findingAt("unset-nothing", p, `${UNSET_ITEM_KEY} of ${dotted} ${shown}, which no parent layer has`, {
            environment: ctx.environment,
            key: dotted,
          }),
        );
      return;
    }
    if (at >= 0) {
      const merged = applyLayer(result[at], item, ctx, [...path, at], null);
      if (merged) result[at] = merged;
    } else {
      if (containsUnset(item)) {
        reportUnsetInArray(item, ctx, [...path, i]);
        return;
      }
      const e = fromLayer(item, ctx, null);
      if (e) result.push(e);
    }
  });
  return result;
}
