/** "Did you mean …?": the closest known name to a misspelt one, for unknown keys and environments. */
import { distance } from "fastest-levenshtein";

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
    const d = distance(lower, candidate.toLowerCase());
    if (d > limit) continue;
    if (d < bestDistance || (d === bestDistance && best !== null && candidate < best)) {
      best = candidate;
      bestDistance = d;
    }
  }
  return best;
}
