/**
 * The rollouts' part of the audit (`GET /v1/audit` `rollouts`, the dashboard's audit page): which decisions
 * are kept, and reading them back. Every start, step, promotion, rollback, pause, resume and abort is kept;
 * a hold only when a gate or a freeze starts holding the rollout, or what holds it changes (a step's wait is
 * the normal course of a rollout, a pause is its own entry, and the loop deciding the same hold every round
 * is not news). Plan renewals are not kept. Each entry is written with the rollout record that the decision
 * stored (src/io/stores `writeRollout`), so it exists exactly when the decision took effect.
 */
import type { RolloutAuditEntry, RolloutDecisionRecord } from "../../core/protocol/index.js";
import type { RolloutState } from "../../core/rollout/index.js";
import type { SnapshotStore } from "../../io/stores/index.js";

/** What a hold is held by, for the audit: the gates and freezes (not the step's wait, not the pause). */
function heldBy(d: RolloutDecisionRecord | undefined): string {
  if (d === undefined || d.action !== "hold") return "";
  const by = (d.holds ?? [])
    .filter((h) => h.code !== "waiting" && h.code !== "paused")
    .map((h) => `${h.code}:${h.gate ?? ""}`)
    .sort();
  return by.join(",");
}

/**
 * The audit entry of a decision just stored, or null when it is not kept. `previous` is the decision stored
 * before it on the chain (the record's latest).
 */
export function auditEntryOf(
  d: RolloutDecisionRecord,
  state: RolloutState,
  previous: RolloutDecisionRecord | undefined,
): RolloutAuditEntry | null {
  if (d.action === "none") return null;
  if (d.action === "hold" && (heldBy(d) === "" || heldBy(d) === heldBy(previous))) return null;
  return {
    at: d.at,
    environment: state.environment,
    ...(state.service === null ? {} : { service: state.service }),
    rollout: state.rolloutId,
    action: d.action,
    actor: d.actor,
    reason: d.reason,
    phase: state.phase,
    percent: state.percent,
    planVersion: d.planVersion,
    stable: state.stable,
    candidate: state.candidate,
    ...(d.breaches !== undefined && d.breaches.length > 0 ? { breaches: d.breaches } : {}),
    ...(d.action === "hold" && d.holds !== undefined ? { holds: d.holds } : {}),
  };
}

function isEntry(v: unknown): v is RolloutAuditEntry {
  const e = v as Partial<RolloutAuditEntry> | null;
  return (
    e !== null &&
    typeof e === "object" &&
    typeof e.at === "string" &&
    typeof e.environment === "string" &&
    typeof e.rollout === "string" &&
    typeof e.action === "string" &&
    typeof e.actor === "string"
  );
}

/** Every chain's rollout audit, oldest first; a line that is not an entry (a torn write) is left out. */
export async function readRolloutAudit(store: SnapshotStore): Promise<RolloutAuditEntry[]> {
  const out: RolloutAuditEntry[] = [];
  for (const line of await store.rolloutAudit()) {
    try {
      const v = JSON.parse(line) as unknown;
      if (isEntry(v)) out.push(v);
    } catch {
      continue;
    }
  }
  return out.sort(
    (a, b) =>
      a.at.localeCompare(b.at) ||
      a.environment.localeCompare(b.environment) ||
      (a.service ?? "").localeCompare(b.service ?? "") ||
      a.planVersion - b.planVersion,
  );
}
