/**
 * Why a client refuses a rollout plan (core/rollout/plan.ts verifies; the SDK's `plan-refused` errors and its
 * health reports name them). A module of its own, without the verification's imports: the health reports'
 * checks (reports.ts) need the names, and the dashboard type-checks against them without node:crypto.
 */
export const PLAN_REFUSALS = [
  "malformed",
  "digest-mismatch",
  "untrusted-signature",
  "wrong-environment",
  "wrong-service",
  "expired",
  "unsigned-version",
  "plan-regression",
  "plan-equivocation",
  "rollout-changed",
  "rollout-finished",
  "cohort-shrank",
  "versions-regressed",
] as const;
export type PlanRefusal = (typeof PLAN_REFUSALS)[number];
