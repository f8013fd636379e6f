/** Config blame (`strata log`): the pure parts — pull request numbers, value changes (key patterns: ../glob.ts). */
import type { LeafInfo } from "../model.js";
import type { ChangeKind, ValueChange } from "./model.js";
import { isEqualJson } from "./values.js";

/** The pull request number a commit message carries: GitHub's "Merge pull request #12 …" or a squash "… (#12)". */
export function findPullRequestNumber(subject: string): number | null {
  const m = /^Merge pull request #(\d+)\b/.exec(subject) ?? /\(#(\d+)\)\s*$/.exec(subject);
  return m?.[1] !== undefined ? Number(m[1]) : null;
}

export type { ValueChange };

/** The leaves matching `matches` whose effective value differs between two resolutions. */
export function compareMatchingLeaves(
  before: ReadonlyMap<string, LeafInfo>,
  after: ReadonlyMap<string, LeafInfo>,
  matches: (key: string) => boolean,
): ValueChange[] {
  const changes: ValueChange[] = [];
  const keys = [...after.keys(), ...[...before.keys()].filter((k) => !after.has(k))].filter(matches);
  for (const key of keys) {
    const b = before.get(key);
    const a = after.get(key);
    if (a && b && isEqualJson(a.value, b.value)) continue;
    const change: ChangeKind = b === undefined ? "added" : a === undefined ? "removed" : "changed";
    const sensitive = Boolean(a?.sensitive || b?.sensitive);
    const entry: Partial<ValueChange> = { key, change };
    if (!sensitive) {
      if (b) entry.before = b.value;
      if (a) entry.after = a.value;
    }
    entry.sensitive = sensitive;
    if (sensitive) entry.certain = change !== "changed" || !(a?.ciphertextOnly || b?.ciphertextOnly);
    changes.push(entry as ValueChange);
  }
  return changes;
}
