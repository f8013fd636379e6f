/**
 * What a rollout's per-cohort refusal totals say, in words: which rows have something to say (a refusal or a
 * stale client) and how each reads. One wording for `strata rollout status` and the dashboard's rollout panel.
 * No Node API and type-only imports: the dashboard bundles this module.
 */
import type { RolloutStatusDocument } from "../protocol/rollout.js";

/**
 * One line per cohort and version with refusals or stale clients (candidate cohort first, as the status lists
 * them); none when every reporting client is fine. `clean` makes text from the endpoint printable (the CLI
 * strips control characters; the dashboard escapes when it renders).
 */
export function refusalLines(doc: RolloutStatusDocument, clean: (text: string) => string = (t) => t): string[] {
  const s = doc.state;
  const lines: string[] = [];
  const counts = (m: Record<string, number>): string =>
    Object.entries(m)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([code, n]) => `${clean(code)} ${n}`)
      .join(", ");
  for (const r of doc.refusals ?? []) {
    const stale = r.stale.expired + r.stale.disconnected;
    if (r.rejecting === 0 && stale === 0) continue;
    const parts: string[] = [];
    if (r.rejecting > 0) {
      const what = [
        Object.keys(r.rejected.snapshot).length > 0 ? `snapshots: ${counts(r.rejected.snapshot)}` : "",
        Object.keys(r.rejected.plan).length > 0 ? `plans: ${counts(r.rejected.plan)}` : "",
      ].filter(Boolean);
      parts.push(`${r.rejecting} refused (${what.join("; ")})`);
    }
    if (stale > 0) parts.push(`${stale} stale (${counts(r.stale)})`);
    // A candidate-cohort client still on the stable version that refused something never ran the candidate.
    const never =
      s !== null &&
      r.cohort === "candidate" &&
      r.version === s.stable.version &&
      r.rejecting > 0 &&
      s.stable.version !== s.candidate.version
        ? `: they refused the candidate or its plan, and never ran v${s.candidate.version}`
        : "";
    lines.push(
      `${r.cohort} cohort on v${r.version}: of ${r.instances} reporting instance${r.instances === 1 ? "" : "s"}, ${parts.join(", ")}${never}`,
    );
  }
  return lines;
}
