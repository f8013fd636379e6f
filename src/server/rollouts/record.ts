/**
 * What the store keeps per chain for its rollout (one record, replaced by compare-and-swap): the state the
 * decision engine reads (core/rollout/decide.ts), the current signed plan as served, the latest decisions for
 * the status, the key paths the candidate changed (for change events) and where it came from. Every server
 * reads the same record, so whichever runs the next round of the loop continues from it; a server killed at
 * any instant leaves either the old record or the new one.
 */
import type { ClientRefusals, RolloutDecisionRecord } from "../../core/protocol/index.js";
import {
  addRefusals,
  versionFor,
  type ChangeEvent,
  type InstanceTotals,
  type ReportAggregate,
  type RolloutState,
} from "../../core/rollout/index.js";

export const RECORD_KIND = "strata.rollout-record";

export interface RolloutRecord {
  kind: typeof RECORD_KIND;
  state: RolloutState;
  planVersion: number;
  /** The signed plan's canonical JSON: the bytes `GET {chain}/plan` and the `plan` events carry. */
  plan: string;
  /** Its digest (the ETag) and expiry, so a read need not parse the plan. */
  digest: string;
  expiresAt: string;
  /** The latest first, at most {@link MAX_DECISIONS}. */
  decisions: RolloutDecisionRecord[];
  /** The key paths the candidate changes (never values), for change events. */
  keys: string[];
  source: ChangeEvent["source"];
}

export const MAX_DECISIONS = 50;

export function parseRecord(text: string): RolloutRecord | null {
  try {
    const v = JSON.parse(text) as RolloutRecord;
    return v !== null && typeof v === "object" && v.kind === RECORD_KIND && typeof v.plan === "string" ? v : null;
  } catch {
    return null;
  }
}

/** One server's report totals of a chain, shared through the store (src/io/stores putRolloutReports). */
export interface SharedReports {
  server: string;
  rolloutId: string;
  writtenAt: string;
  aggregate: ReportAggregate;
}

export function parseSharedReports(text: string): SharedReports | null {
  try {
    const v = JSON.parse(text) as SharedReports;
    return v !== null && typeof v === "object" && typeof v.rolloutId === "string" && typeof v.aggregate === "object"
      ? v
      : null;
  } catch {
    return null;
  }
}

/**
 * Every server's totals of one rollout added up: per version and instance, the sums, from the earliest first
 * report (an instance that moved between servers counts on both, each capped by its own time).
 */
export function mergeAggregates(parts: readonly ReportAggregate[]): ReportAggregate {
  const out: ReportAggregate = { versions: {} };
  for (const part of parts)
    for (const [version, instances] of Object.entries(part.versions)) {
      const into = (out.versions[version] ??= {});
      for (const [instance, t] of Object.entries(instances)) {
        const have = Object.hasOwn(into, instance) ? into[instance] : undefined;
        const merged: InstanceTotals = have
          ? {
              firstSeen: Math.min(have.firstSeen, t.firstSeen),
              requests: have.requests + t.requests,
              errors: have.errors + t.errors,
              latency: {
                count: have.latency.count + t.latency.count,
                sum: have.latency.sum + t.latency.sum,
                sumSquares: have.latency.sumSquares + t.latency.sumSquares,
              },
              // The latest report's staleness, whichever server took it.
              ...((t.lastAt ?? -Infinity) > (have.lastAt ?? -Infinity)
                ? { stale: t.stale ?? null, lastAt: t.lastAt }
                : { stale: have.stale ?? null, lastAt: have.lastAt }),
            }
          : { ...t, latency: { ...t.latency } };
        if (have) {
          addRefusals(merged, have.rejected);
          addRefusals(merged, t.rejected);
        } else if (t.rejected !== undefined) {
          delete merged.rejected;
          addRefusals(merged, t.rejected);
        }
        Object.defineProperty(into, instance, { value: merged, enumerable: true, writable: true, configurable: true });
      }
    }
  return out;
}

/**
 * What the clients refused and whether they run stale configuration, per cohort (each instance's by the
 * plan) and per version it reported on: a candidate-cohort row on the stable version with refusals is a
 * client that refused the candidate (or its plan) and so never ran it. Rows with no report are left out.
 */
export function clientRefusals(
  aggregate: ReportAggregate,
  plan: Parameters<typeof versionFor>[0],
  state: Pick<RolloutState, "stable" | "candidate">,
): ClientRefusals[] {
  const rows = new Map<string, ClientRefusals>();
  for (const version of [state.candidate.version, state.stable.version]) {
    const key = String(version);
    if (!Object.hasOwn(aggregate.versions, key)) continue;
    for (const [instance, t] of Object.entries(aggregate.versions[key]!)) {
      const cohort = versionFor(plan, { instance }).role;
      const id = `${cohort} ${version}`;
      let row = rows.get(id);
      if (row === undefined)
        rows.set(
          id,
          (row = {
            cohort,
            version,
            instances: 0,
            rejecting: 0,
            rejected: { snapshot: {}, plan: {} },
            stale: { expired: 0, disconnected: 0 },
          }),
        );
      row.instances++;
      const counts = [...Object.values(t.rejected?.snapshot ?? {}), ...Object.values(t.rejected?.plan ?? {})];
      if (counts.some((n) => n > 0)) row.rejecting++;
      const into = {
        firstSeen: 0,
        requests: 0,
        errors: 0,
        latency: { count: 0, sum: 0, sumSquares: 0 },
        rejected: row.rejected,
      };
      addRefusals(into, t.rejected);
      if (t.stale === "expired" || t.stale === "disconnected") row.stale[t.stale]++;
    }
  }
  const order = (r: ClientRefusals): number =>
    (r.cohort === "candidate" ? 0 : 2) + (r.version === state.candidate.version ? 0 : 1);
  return [...rows.values()].sort((a, b) => order(a) - order(b));
}
