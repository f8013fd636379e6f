/**
 * A seeded simulation of a rollout against synthetic traffic: N instances, each reporting its requests and
 * errors every few seconds, the candidate cohort chosen by the real cohort code, every report judged by the
 * real decision engine (decide.ts). The statistics test and bench/rollout.bench.mjs run it; an operator
 * can use it to see what a policy would do with their traffic ("how soon would a 1% → 6% error rate be
 * caught in a 5% canary of 200 instances?").
 *
 * Deterministic: the same input and seed give the same run, on any machine.
 */
import type { VersionRef } from "../snapshot/snapshot.js";
import { calibratedBoundary, cohortPosition, inRange } from "./cohort.js";
import { applyDecision, decide, startRollout, type Decision, type DecideInput, type RolloutState } from "./decide.js";
import type { GateSignal } from "./gates.js";
import type { RolloutPolicy } from "./policy.js";
import type { RateSample } from "./statistics.js";

export interface SimulationInput {
  policy: RolloutPolicy;
  /** Client processes. */
  instances: number;
  /** Requests per second of each instance. */
  requestsPerSecond: number;
  /** How often each instance reports (milliseconds). */
  reportEveryMs: number;
  /**
   * Error rate of the stable and of the candidate version (fractions); or a function of the simulated time
   * since the start, for traffic that changes under the rollout (an incident that hits every cohort).
   */
  errorRate: ErrorRates | ((elapsedMs: number) => ErrorRates);
  seed: number;
  /** Stop (outcome `held`) after this much simulated time; default: the policy's steps twice over plus an hour. */
  maxMs?: number;
  /** The decision function (default: the engine's); a benchmark passes a naive one to compare. */
  decide?: (input: DecideInput) => Decision;
}

export interface ErrorRates {
  stable: number;
  candidate: number;
}

export interface SimulationResult {
  outcome: "promoted" | "rolled-back" | "held";
  /** Simulated time from the start to the last decision. */
  elapsedMs: number;
  /** Reports received until then (all instances). */
  reports: number;
  /** The last decision (the one that ended the run, or the last hold). */
  decision: Decision;
  state: RolloutState;
}

const stable: VersionRef = { version: 1, digest: `sha256:${"1".repeat(64)}` };
const candidate: VersionRef = { version: 2, digest: `sha256:${"2".repeat(64)}` };

/** Runs one rollout to its end (or maxMs). */
export function simulateRollout(input: SimulationInput): SimulationResult {
  const random = createRandom(input.seed);
  const decideFn = input.decide ?? decide;
  const t0 = 1_700_000_000_000;
  const rolloutId = `sim-${input.seed}`;
  const positions = Array.from({ length: input.instances }, (_, i) =>
    cohortPosition(rolloutId, { instance: `instance-${i}` }),
  );
  const started = startRollout({
    policy: input.policy,
    rolloutId,
    environment: "simulation",
    stable,
    candidate,
    now: t0,
  });
  if (!started.ok) throw new RangeError(started.reason);
  let state = started.state;
  const maxMs = input.maxMs ?? 2 * totalStepMs(input.policy) + 3_600_000;
  const perReport = Math.round((input.requestsPerSecond * input.reportEveryMs) / 1000);
  const totals = { candidate: { events: 0, trials: 0 }, control: { events: 0, trials: 0 } };
  let boundary = calibratedBoundary(positions, state.percent);
  let reports = 0;
  let decision: Decision = { action: "none", reason: "not started", evaluations: [] };
  for (let t = t0 + input.reportEveryMs; ; t += input.reportEveryMs) {
    if (state.phase !== "progressing") break;
    // Instances of one cohort share a version and so an error rate: their reports of one round add up to
    // one binomial draw (the same distribution as drawing each report and summing).
    const inCohort = positions.filter((p) => inRange(p, [0, boundary])).length;
    const rates = typeof input.errorRate === "function" ? input.errorRate(t - t0) : input.errorRate;
    add(totals.candidate, inCohort * perReport, rates.candidate, random);
    add(totals.control, (input.instances - inCohort) * perReport, rates.stable, random);
    reports += input.instances;
    const signals: Record<string, GateSignal> = {};
    for (const g of input.policy.gates)
      if (g.metric !== "latency")
        signals[g.name] = { kind: "rate", candidate: { ...totals.candidate }, control: { ...totals.control } };
    decision = decideFn({ policy: input.policy, state, now: t, signals });
    state = applyDecision(state, decision, t);
    if (decision.action === "advance") boundary = calibratedBoundary(positions, state.percent, boundary);
    const elapsed = t - t0;
    if (state.phase === "promoted" || state.phase === "rolled-back")
      return { outcome: state.phase, elapsedMs: elapsed, reports, decision, state };
    if (elapsed >= maxMs) return { outcome: "held", elapsedMs: elapsed, reports, decision, state };
  }
  return { outcome: state.phase === "promoted" ? "promoted" : "held", elapsedMs: 0, reports, decision, state };
}

function totalStepMs(policy: RolloutPolicy): number {
  const s = policy.strategy;
  if (s.kind === "all-at-once") return 0;
  if (s.kind === "canary") return s.bake;
  let steps = 0;
  if (s.kind === "linear") steps = Math.ceil(10_000 / s.step);
  else for (let x = s.start; x < 10_000; x *= s.factor) steps++;
  return steps * s.every;
}

function add(total: RateSample, trials: number, p: number, random: () => number): void {
  total.trials += trials;
  total.events += binomial(trials, p, random);
}

/**
 * A Binomial(n, p) draw by the waiting-time method: skip ahead by geometric gaps between successes, so the
 * cost is proportional to the number of successes (n·p), not to n.
 */
export function binomial(n: number, p: number, random: () => number): number {
  if (n <= 0 || p <= 0) return 0;
  if (p >= 1) return n;
  if (p > 0.5) return n - binomial(n, 1 - p, random);
  const logQ = Math.log1p(-p);
  let successes = 0;
  let position = 0;
  for (;;) {
    // 1 − random() is in (0, 1]: its log is finite.
    position += Math.floor(Math.log(1 - random()) / logQ) + 1;
    if (position > n) return successes;
    successes++;
  }
}

/** xoshiro128** seeded through splitmix32: a small, fast generator with a well-studied output. */
export function createRandom(seed: number): () => number {
  let s = seed >>> 0;
  const splitmix = (): number => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
  let a = splitmix();
  let b = splitmix();
  let c = splitmix();
  let d = splitmix();
  return () => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result / 2 ** 32;
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}
