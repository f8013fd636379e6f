import type { LNode, Pos } from "./nodes.js";

/**
 * The deepest node along a path of keys/indices, and whether the path was found whole. Used to point
 * an error at the exact value (or, when the value is missing, at its nearest parent).
 */
export function locate(
  root: LNode,
  path: readonly (string | number)[],
): { node: LNode; pos: Pos; keyPos: Pos | null; exact: boolean } {
  let node = root;
  let keyPos: Pos | null = null;
  for (const seg of path) {
    if (node.kind === "map" && typeof seg === "string") {
      const e = node.entries.get(seg);
      if (!e) return { node, pos: node.pos, keyPos, exact: false };
      keyPos = e.keyPos;
      node = e.value;
    } else if (node.kind === "seq" && (typeof seg === "number" || /^\d+$/.test(seg))) {
      // JSON Pointer paths (a schema validator's) carry indices as strings.
      const item = node.items[Number(seg)];
      if (!item) return { node, pos: node.pos, keyPos, exact: false };
      keyPos = null;
      node = item;
    } else {
      return { node, pos: node.pos, keyPos, exact: false };
    }
  }
  return { node, pos: node.pos, keyPos, exact: true };
}
