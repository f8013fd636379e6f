/** Array changes item by item (docs/diff.md), matched the way `x-merge` matches them when it can. */
import { isJsonObject, type JsonValue } from "../json.js";
import type { ItemChange } from "./model.js";
import { isEqualJson } from "./values.js";

function itemId(item: JsonValue | undefined, by: string): JsonValue | undefined {
  return isJsonObject(item) && Object.hasOwn(item, by) ? item[by] : undefined;
}

/**
 * Items matched on the `by` field when every item of both sides has a distinct one; otherwise (or without
 * `by`) by index. Matched items that differ are "changed"; order-only moves are not reported.
 */
export function compareItems(
  before: readonly JsonValue[],
  after: readonly JsonValue[],
  by: string | null,
): ItemChange[] {
  if (by !== null && hasDistinctIds(before, by) && hasDistinctIds(after, by)) return compareById(before, after, by);
  const changes: ItemChange[] = [];
  const n = Math.max(before.length, after.length);
  for (let i = 0; i < n; i++) {
    if (i >= before.length) changes.push({ index: i, change: "added", after: after[i] as JsonValue });
    else if (i >= after.length) changes.push({ index: i, change: "removed", before: before[i] as JsonValue });
    else if (!isEqualJson(before[i], after[i]))
      changes.push({ index: i, change: "changed", before: before[i] as JsonValue, after: after[i] as JsonValue });
  }
  return changes;
}

function hasDistinctIds(items: readonly JsonValue[], by: string): boolean {
  const seen = new Set<string>();
  for (const item of items) {
    const id = itemId(item, by);
    if (id === undefined) return false;
    const k = JSON.stringify(id);
    if (seen.has(k)) return false;
    seen.add(k);
  }
  return true;
}

function compareById(before: readonly JsonValue[], after: readonly JsonValue[], by: string): ItemChange[] {
  const beforeById = new Map(before.map((item, index) => [JSON.stringify(itemId(item, by)), { item, index }]));
  const afterIds = new Set<string>();
  const changes: ItemChange[] = [];
  after.forEach((item, index) => {
    const key = JSON.stringify(itemId(item, by));
    afterIds.add(key);
    const id = itemId(item, by) as JsonValue;
    const old = beforeById.get(key);
    if (!old) changes.push({ index, change: "added", id, after: item });
    else if (!isEqualJson(old.item, item))
      changes.push({ index, change: "changed", id, before: old.item, after: item });
  });
  before.forEach((item, index) => {
    const key = JSON.stringify(itemId(item, by));
    if (!afterIds.has(key)) changes.push({ index, change: "removed", id: itemId(item, by) as JsonValue, before: item });
  });
  return changes;
}
