/**
 * A rollout's phases, apart from the decisions (decide.ts) so that what the SDK needs to check a plan
 * (plan.ts) loads without the policy reader and its dependencies.
 */
export const ROLLOUT_PHASES = ["progressing", "paused", "promoted", "rolled-back", "aborted"] as const;
export type RolloutPhase = (typeof ROLLOUT_PHASES)[number];
/** Phases after which nothing changes in this rollout. */
export const FINAL_PHASES: readonly RolloutPhase[] = ["promoted", "rolled-back", "aborted"];
