/** "Did you mean …?": the closest known name to a misspelt one, for unknown keys and environments. */
import { distance } from "fastest-levenshtein";
import { joinKey, splitKey } from "./names.js";

/**
 * The candidate nearest to `word` by edit distance (case-insensitive), or null when none is close
 * enough to be a likely typo: at most a third of the word's length, and at least one edit allowed.
 * Ties go to the alphabetically first, so the answer does not depend on declaration order.
 */
export function suggestClosest(word: string, candidates: Iterable<string>): string | null {
  const lower = word.toLowerCase();
  const limit = Math.max(1, Math.floor(word.length / 3));
  let best: string | null = null;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === word) continue;
    const d = editDistance(lower, candidate.toLowerCase());
    if (d > limit) continue;
    if (d < bestDistance || (d === bestDistance && best !== null && candidate < best)) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}

/** Levenshtein distance, with a swap of two neighbouring letters (`bsae` for `base`) counted as one edit. */
function editDistance(a: string, b: string): number {
  if (a.length === b.length && a.length >= 2) {
    let first = -1;
    let differences = 0;
    for (let i = 0; i < a.length && differences <= 2; i++)
      if (a[i] !== b[i]) {
        if (first < 0) first = i;
        differences++;
      }
    if (differences === 2 && a[first] === b[first + 1] && a[first + 1] === b[first]) return 1;
  }
  return distance(a, b);
}

/**
 * What is under a path of a tree: its keys (a map), its length (a list), or null (a leaf, or nothing).
 * Lets one suggestion walk any tree: the effective config, the merged nodes, a schema.
 */
export type ChildrenOf = (path: readonly (string | number)[]) => Iterable<string> | number | null;

/**
 * The existing key path closest to a misspelt one (`databse.pol.max` -> `database.pool.max`), walked segment
 * by segment: a segment that exists is kept, one that does not is replaced by its closest sibling
 * ({@link suggestClosest}). Null when some segment has no close sibling, an index is out of range, the path
 * goes below a leaf, or nothing was misspelt.
 */
export function suggestKeyPath(path: string, childrenOf: ChildrenOf): string | null {
  const segments = splitKey(path);
  if (segments.length === 0) return null;
  const walked: (string | number)[] = [];
  let changed = false;
  for (const segment of segments) {
    const children = childrenOf(walked);
    if (children === null) return null;
    if (typeof children === "number") {
      if (typeof segment !== "number" || segment >= children) return null;
      walked.push(segment);
      continue;
    }
    if (typeof segment === "number") return null;
    const names = [...children];
    if (names.includes(segment)) {
      walked.push(segment);
      continue;
    }
    const near = suggestClosest(segment, names);
    if (near === null) return null;
    walked.push(near);
    changed = true;
  }
  return changed ? joinKey(walked) : null;
}

/** {@link ChildrenOf} for a JSON value (the effective config). */
export function jsonChildren(root: unknown): ChildrenOf {
  return (path) => {
    let node: unknown = root;
    for (const p of path) {
      if (node === null || typeof node !== "object") return null;
      node = Array.isArray(node)
        ? typeof p === "number"
          ? node[p]
          : undefined
        : Object.hasOwn(node, p)
          ? (node as Record<string, unknown>)[p]
          : undefined;
    }
    if (Array.isArray(node)) return node.length;
    return node !== null && typeof node === "object" ? Object.keys(node) : null;
  };
}
