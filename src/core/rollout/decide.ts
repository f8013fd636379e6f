/**
 * The rollout's state machine and its decision engine. Everything here is a pure function of the policy,
 * the state, the clock the caller passes in and the aggregated signals, so that every server computes the
 * same next step from the same stored state, a restarted server resumes where the state says, and the
 * simulation (simulate.ts) runs the very code a server runs.
 *
 *   start ──> progressing ──(gates pass, step waited out)──> next step … ──> promoted
 *                 │  ^                                                       (everyone on the candidate)
 *        pause    v  │ resume
 *               paused        any gate breached, in any phase before the end ──> rolled-back
 *                                                 an operator's abort ─────────> aborted
 *
 * A breach rolls back even while paused or frozen: stopping harm is never held. Advancing and promoting
 * wait for the step's time, for every gate to pass, for the pause to end and for the freeze to lift.
 */
import type { VersionRef } from "../protocol/snapshot.js";
import { activeFreeze } from "./freeze.js";
import { evaluateGate, type GateEvaluation, type GateSignal } from "./gates.js";
import { stepPercents, type RolloutPolicy } from "./policy.js";
import { BASIS_POINTS, formatDuration, formatShare } from "./units.js";

import { FINAL_PHASES, type RolloutPhase } from "./phases.js";

export { FINAL_PHASES, type RolloutPhase } from "./phases.js";

/** What the store keeps per environment (and service) so that servers agree and a restart resumes. */
export interface RolloutState {
  rolloutId: string;
  environment: string;
  service: string | null;
  stable: VersionRef;
  candidate: VersionRef;
  phase: RolloutPhase;
  /** Index into the policy's steps (stepPercents); the step the rollout is at. */
  step: number;
  /** The share of clients on the candidate now, in basis points. */
  percent: number;
  /** Milliseconds since the epoch. */
  startedAt: number;
  stepStartedAt: number;
  /** Why the phase is what it is: the decision or operator action that set it. */
  reason: string;
}

export type HoldCode = "paused" | "waiting" | "frozen" | "gate";

export interface Hold {
  code: HoldCode;
  detail: string;
  /** The gate, for `gate` holds. */
  gate?: string;
  /** When the hold lifts by itself (waiting, frozen), in milliseconds since the epoch. */
  until?: number;
}

/** Everything an operator, the audit log and the dashboard need to know about a rollback. */
export interface Breach {
  gate: string;
  metric: GateEvaluation["metric"];
  /** The candidate's value (a rate as a fraction, a mean in milliseconds) and the control's. */
  value: number;
  control: number;
  /** Candidate minus control, and its always-valid interval. */
  difference: number;
  interval: [lower: number, upper: number];
  threshold: number;
  samples: { candidate: number; control: number };
  /** The window both cohorts were measured over (milliseconds since the epoch). */
  window: { from: number; to: number };
  /** The confidence the gate was tested at (1 − its α). */
  confidence: number;
  detail: string;
}

export type Decision =
  | { action: "advance"; step: number; percent: number; reason: string; evaluations: GateEvaluation[] }
  | { action: "promote"; reason: string; evaluations: GateEvaluation[] }
  | { action: "rollback"; breaches: Breach[]; reason: string; evaluations: GateEvaluation[] }
  | { action: "hold"; holds: Hold[]; reason: string; evaluations: GateEvaluation[] }
  | { action: "none"; reason: string; evaluations: GateEvaluation[] };

export type Signals = ReadonlyMap<string, GateSignal> | Readonly<Record<string, GateSignal>>;

export interface DecideInput {
  policy: RolloutPolicy;
  state: RolloutState;
  /** Milliseconds since the epoch. */
  now: number;
  /** Per gate name; cumulative since `state.startedAt`, both cohorts over the same window. */
  signals: Signals;
}

/** Each gate's share of the policy's error level (Bonferroni): the whole rollout stays within it. */
export function gateAlpha(policy: RolloutPolicy): number {
  const alpha = 1 - policy.confidence / BASIS_POINTS;
  return policy.gates.length === 0 ? alpha : alpha / policy.gates.length;
}

/** The step the rollout holds at, and for how long, from the policy. */
function stepDuration(policy: RolloutPolicy): number {
  const s = policy.strategy;
  return s.kind === "canary" ? s.bake : s.kind === "all-at-once" ? 0 : s.every;
}

function evaluateGates(policy: RolloutPolicy, signals: Signals): GateEvaluation[] {
  const alpha = gateAlpha(policy);
  const get = (name: string): GateSignal | undefined =>
    signals instanceof Map
      ? signals.get(name)
      : Object.hasOwn(signals, name)
        ? (signals as Record<string, GateSignal>)[name]
        : undefined;
  return policy.gates.map((g) => evaluateGate(g, get(g.name), alpha));
}

/** The next step of a rollout. */
export function decide({ policy, state, now, signals }: DecideInput): Decision {
  if (FINAL_PHASES.includes(state.phase))
    return { action: "none", reason: `the rollout is ${state.phase}`, evaluations: [] };
  const evaluations = evaluateGates(policy, signals);

  const breaches = evaluations.filter((e) => e.verdict === "breach");
  if (breaches.length > 0) {
    const list = breaches.map((e) => toBreach(e, { from: state.startedAt, to: now }));
    return {
      action: "rollback",
      breaches: list,
      reason: `gate ${list.map((b) => `${b.gate}: ${b.detail}`).join("; gate ")}`,
      evaluations,
    };
  }

  const holds: Hold[] = [];
  if (state.phase === "paused") holds.push({ code: "paused", detail: `paused: ${state.reason}` });
  const duration = stepDuration(policy);
  const readyAt = state.stepStartedAt + duration;
  if (now < readyAt)
    holds.push({
      code: "waiting",
      detail: `step ${state.step + 1} at ${formatShare(state.percent)} holds for ${formatDuration(duration)}; ${formatDuration(readyAt - now)} to go`,
      until: readyAt,
    });
  for (const e of evaluations)
    if (e.verdict === "inconclusive")
      holds.push({ code: "gate", gate: e.gate, detail: `gate ${e.gate} is inconclusive (${e.reason}): ${e.detail}` });
  const freeze = activeFreeze(policy, now);
  if (freeze)
    holds.push({
      code: "frozen",
      detail: `changes are frozen${freeze.reason ? ` (${freeze.reason})` : ""} until ${new Date(freeze.endsAt).toISOString()}`,
      until: freeze.endsAt,
    });
  if (holds.length > 0) return { action: "hold", holds, reason: holds.map((h) => h.detail).join("; "), evaluations };

  const steps = stepPercents(policy.strategy);
  const passed = evaluations.length === 0 ? "no gates" : `gates ${evaluations.map((e) => e.gate).join(", ")} passed`;
  if (state.step + 1 >= steps.length)
    return {
      action: "promote",
      reason: `${passed} at ${formatShare(state.percent)}: promote to everyone`,
      evaluations,
    };
  const percent = steps[state.step + 1]!;
  return {
    action: "advance",
    step: state.step + 1,
    percent,
    reason: `${passed} at ${formatShare(state.percent)}: advance to ${formatShare(percent)}`,
    evaluations,
  };
}

function toBreach(e: GateEvaluation, window: { from: number; to: number }): Breach {
  const c = e.comparison!;
  return {
    gate: e.gate,
    metric: e.metric,
    value: c.candidate,
    control: c.control,
    difference: c.estimate,
    interval: [c.lower, c.upper],
    threshold: e.threshold,
    samples: e.samples!,
    window,
    confidence: 1 - e.alpha,
    detail: e.detail,
  };
}

export interface StartInput {
  policy: RolloutPolicy;
  rolloutId: string;
  environment: string;
  service?: string | null;
  stable: VersionRef;
  candidate: VersionRef;
  now: number;
  /** The emergency path (the approvals' emergency label): a push during a freeze, recorded as such. */
  emergency?: boolean;
}

export type StartResult =
  { ok: true; state: RolloutState; emergency: boolean } | { ok: false; code: "frozen"; reason: string; until: number };

/** The first state of a rollout; refused during a freeze unless the emergency path is taken. */
export function startRollout(input: StartInput): StartResult {
  const { policy, now } = input;
  const freeze = activeFreeze(policy, now);
  if (freeze && input.emergency !== true)
    return {
      ok: false,
      code: "frozen",
      reason: `changes to ${input.environment} are frozen${freeze.reason ? ` (${freeze.reason})` : ""} until ${new Date(freeze.endsAt).toISOString()}`,
      until: freeze.endsAt,
    };
  if (!(input.candidate.version > input.stable.version))
    throw new RangeError(
      `the candidate v${input.candidate.version} must be newer than the stable v${input.stable.version}`,
    );
  const steps = stepPercents(policy.strategy);
  const base = {
    rolloutId: input.rolloutId,
    environment: input.environment,
    service: input.service ?? null,
    stable: input.stable,
    candidate: input.candidate,
    startedAt: now,
    stepStartedAt: now,
    step: 0,
  };
  const emergency = freeze !== null;
  const note = emergency ? " (emergency: during a freeze)" : "";
  const state: RolloutState =
    steps.length === 0
      ? { ...base, phase: "promoted", percent: BASIS_POINTS, reason: `all-at-once${note}` }
      : { ...base, phase: "progressing", percent: steps[0]!, reason: `started at ${formatShare(steps[0]!)}${note}` };
  return { ok: true, state, emergency };
}

/** The state after a decision (hold and none leave it as it is). */
export function applyDecision(state: RolloutState, decision: Decision, now: number): RolloutState {
  switch (decision.action) {
    case "advance":
      return { ...state, step: decision.step, percent: decision.percent, stepStartedAt: now, reason: decision.reason };
    case "promote":
      return { ...state, phase: "promoted", percent: BASIS_POINTS, reason: decision.reason };
    case "rollback":
      return { ...state, phase: "rolled-back", percent: 0, reason: decision.reason };
    case "hold":
    case "none":
      return state;
  }
}

export const OPERATOR_ACTIONS = ["pause", "resume", "abort", "promote"] as const;
export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

/**
 * An operator's action (`strata rollout pause|resume|abort|promote`): the new state, or why it does not
 * apply. `by` is who asked, for the reason the audit log and status show.
 */
export function operate(
  state: RolloutState,
  action: OperatorAction,
  by: string,
): { ok: true; state: RolloutState } | { ok: false; reason: string } {
  if (FINAL_PHASES.includes(state.phase)) return { ok: false, reason: `the rollout is already ${state.phase}` };
  switch (action) {
    case "pause":
      if (state.phase === "paused") return { ok: false, reason: "the rollout is already paused" };
      return { ok: true, state: { ...state, phase: "paused", reason: `paused by ${by}` } };
    case "resume":
      if (state.phase !== "paused") return { ok: false, reason: "the rollout is not paused" };
      return { ok: true, state: { ...state, phase: "progressing", reason: `resumed by ${by}` } };
    case "abort":
      return { ok: true, state: { ...state, phase: "aborted", percent: 0, reason: `aborted by ${by}` } };
    case "promote":
      return { ok: true, state: { ...state, phase: "promoted", percent: BASIS_POINTS, reason: `promoted by ${by}` } };
  }
}
