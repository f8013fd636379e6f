/**
 * The rollout part of the wire protocol (docs/rollouts.md): where a chain's rollout plan, its status, the
 * operator's actions and the clients' health reports live below the chain's base path (chains.ts), and the
 * documents they carry. The plan itself is `RolloutPlan` (core/rollout/plan.ts): a signed document the
 * clients verify and follow on their own, so every server on a store, and any cache in front of them, can
 * hand it out.
 *
 *   GET  {chain}/plan                 read     the current signed plan (bytes as signed; ETag = its digest);
 *                                              404 `not-found` when the chain never had a rollout
 *   GET  {chain}/rollout              read     {@link RolloutStatusDocument}
 *   POST {chain}/rollout/{action}     push     pause | resume | abort | promote; body {@link RolloutActionRequest};
 *                                              answers the new {@link RolloutStatusDocument}
 *   POST {chain}/reports              report   {@link HealthReportBatch}; answers {@link HealthReportAnswer}
 *
 * On the chain's event stream (`{chain}/events`) a plan travels as
 *
 *   event: plan                                        on connect (before the snapshot event) when the chain
 *   data: {"kind":"strata.rollout-plan",...}           has a plan, then on every new plan version
 *
 * with no `id` (the current plan is sent on every connect, so nothing needs replaying), and on `GET /v1/events`
 * (the dashboard's stream) as `event: rollout` with a {@link RolloutSummary}. A plan always travels before
 * the snapshot it names: the servers store a plan before the version it makes a candidate, and send it
 * first, so a client that sees version N with no plan naming N may run N (a chain without a rollout policy).
 */
// From the modules themselves, not core/rollout's index: the dashboard's bundle type-checks this module
// without Node's types, and the index reaches the signing code.
import type { Breach, Hold, RolloutPhase, RolloutState } from "../rollout/decide.js";
import type { GateEvaluation } from "../rollout/gates.js";
import type { HealthReport } from "../rollout/reports.js";
import type { MeanSample } from "../rollout/statistics.js";
import type { Agree, FieldsOf } from "./fields.js";
import type { VersionRef } from "./snapshot.js";

/** Paths below a chain's base path (`chainPath(chain) + ROLLOUT_PATHS.plan`). */
export const ROLLOUT_PATHS = {
  plan: "/plan",
  rollout: "/rollout",
  reports: "/reports",
} as const;

/** The event type that carries a plan on a chain's event stream. */
export const PLAN_EVENT = "plan";
/** The event type that carries a {@link RolloutSummary} on `GET /v1/events`. */
export const ROLLOUT_EVENT = "rollout";

/** `POST {chain}/rollout/{action}`: the body; `actor` defaults to the token's name. */
export interface RolloutActionRequest {
  reason?: string;
}

/** One decision of the rollout loop, as kept for the status, the audit log and `strata impact`. */
export interface RolloutDecisionRecord {
  /** ISO 8601. */
  at: string;
  action: "advance" | "promote" | "rollback" | "hold" | "none" | "start" | "pause" | "resume" | "abort";
  reason: string;
  /** Who: a token name for operator actions, `strata serve` for the loop's own. */
  actor: string;
  evaluations: GateEvaluation[];
  breaches?: Breach[];
  holds?: Hold[];
  planVersion: number;
}

/**
 * One rollout decision or operator action as the audit keeps it (`GET /v1/audit` `rollouts`, the dashboard's
 * audit page): every start, step, promotion, rollback, pause, resume and abort, and a hold when a gate or a
 * freeze starts holding the rollout (a step's wait and a hold that changes nothing are not kept). Appended
 * once with the rollout record that the decision wrote, never rewritten.
 */
export interface RolloutAuditEntry {
  /** ISO 8601. */
  at: string;
  environment: string;
  /** The service whose chain it is; absent on the environment's own chain (as in the history lines). */
  service?: string;
  /** The rollout's id, e.g. `production/checkout@v12.p3`. */
  rollout: string;
  action: Exclude<RolloutDecisionRecord["action"], "none">;
  /** The token that acted (`local` without tokens), or `strata serve` for the decision loop (the gates). */
  actor: string;
  reason: string;
  /** The phase and share the decision left the rollout in, and the plan version it made (or kept). */
  phase: RolloutPhase;
  percent: number;
  planVersion: number;
  stable: VersionRef;
  candidate: VersionRef;
  /** A rollback's breaches: gate, metric, value, control, threshold, interval, samples, window. */
  breaches?: Breach[];
  /** A hold's reasons. */
  holds?: Hold[];
}

export const ROLLOUT_AUDIT_ENTRY_FIELDS = [
  "at",
  "environment",
  "service",
  "rollout",
  "action",
  "actor",
  "reason",
  "phase",
  "percent",
  "planVersion",
  "stable",
  "candidate",
  "breaches",
  "holds",
] as const;

type _RolloutAuditFields = Agree<FieldsOf<RolloutAuditEntry, typeof ROLLOUT_AUDIT_ENTRY_FIELDS>>;

/** Per cohort, what the reports of its clients add up to since the rollout started. */
export interface CohortHealth {
  version: number;
  /** Instances that reported on this version. */
  instances: number;
  requests: number;
  errors: number;
  /** Mean latency in milliseconds, or null when no report carried latencies. */
  meanLatencyMs: number | null;
  /**
   * The latencies' summary (milliseconds: count, sum, sum of squares), so that a reader can compare the
   * cohorts' means with an interval as the latency gate does; null when no report carried latencies.
   */
  latency: MeanSample | null;
}

/**
 * What the clients of one cohort (by the plan) said in their reports on one version about themselves: the
 * snapshots and plans they refused, and whether their configuration is stale (their latest report).
 */
export interface ClientRefusals {
  cohort: "stable" | "candidate";
  /** The version they reported on (what they ran). */
  version: number;
  /** Instances of the cohort that reported on the version. */
  instances: number;
  /** Of them, those that refused something. */
  rejecting: number;
  /** Summed over them: snapshots by rejection code, plans by refusal. */
  rejected: { snapshot: Record<string, number>; plan: Record<string, number> };
  /** Of them, those whose latest report said stale, by why. */
  stale: { expired: number; disconnected: number };
}

/** `GET {chain}/rollout`. */
export interface RolloutStatusDocument {
  environment: string;
  service: string | null;
  /** The policy's strategy as written in strata.yaml, e.g. `canary 5% for 15m`; `all-at-once` when none. */
  policy: string;
  /** Null when the chain never had a rollout. */
  state: RolloutState | null;
  /** The current plan's version and digest, or null. */
  plan: { planVersion: number; digest: string; expiresAt: string } | null;
  /** The latest first; bounded (the audit log keeps them all). */
  decisions: RolloutDecisionRecord[];
  /**
   * The rollout's report totals by version: each instance that reported on the version since the rollout
   * started, whatever its cohort (a candidate reports on the stable version before it switches and after a
   * rollback, so it counts under both).
   */
  cohorts: { stable: CohortHealth | null; candidate: CohortHealth | null };
  /** Clients known to the fleet records, by the version the latest plan gives them. */
  clients: { stable: number; candidate: number; other: number };
  /**
   * The clients' own refusals and staleness from their reports, per cohort and version (candidate cohort
   * first); empty before any report. Shown, never a gate's signal.
   */
  refusals: ClientRefusals[];
}

/** `POST {chain}/reports`: a client's batch (the SDK and the agent send one every few seconds). */
export interface HealthReportBatch {
  reports: HealthReport[];
}

/** The most reports one batch may hold, and the most bytes its body may have. */
export const MAX_REPORTS_PER_BATCH = 64;
export const MAX_REPORT_BATCH_BYTES = 16 * 1024;

/** `202` answer to a batch: reports refused are named by index, with the reason. */
export interface HealthReportAnswer {
  accepted: number;
  refused: { index: number; problem: string }[];
}

/** The `data` of a `rollout` event on `GET /v1/events`. */
export interface RolloutSummary {
  environment: string;
  service: string | null;
  rolloutId: string;
  phase: RolloutPhase;
  /** Basis points of the clients on the candidate. */
  percent: number;
  stable: VersionRef;
  candidate: VersionRef;
  planVersion: number;
  reason: string;
}

/** The `plan` frame of a chain's event stream: the plan's bytes as signed (canonical JSON: one line). */
export function formatPlanEvent(planText: string): string {
  return `event: ${PLAN_EVENT}\ndata: ${planText}\n\n`;
}

/** The `rollout` frame of `GET /v1/events`. */
export function formatRolloutEvent(summary: RolloutSummary): string {
  return `event: ${ROLLOUT_EVENT}\ndata: ${JSON.stringify(summary)}\n\n`;
}
