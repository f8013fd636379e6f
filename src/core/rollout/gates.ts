/**
 * One gate, one verdict: the candidate cohort against the control over the same window, with the
 * always-valid interval of statistics.ts. A breach needs the whole interval above the threshold, a pass
 * the whole interval below it; everything else is inconclusive, and so is every signal that is missing,
 * too small, failed or not a number. Inconclusive holds a rollout: it never passes a step and never rolls
 * one back.
 */
import type { Gate, GateMetric } from "./policy.js";
import { compareMeans, compareRates, type Comparison, type MeanSample, type RateSample } from "./statistics.js";

/** Why a signal could not be had (reported by the adapters: reports, Prometheus). */
export const UNAVAILABLE_REASONS = ["no-data", "query-failed", "not-a-number"] as const;
export type UnavailableReason = (typeof UNAVAILABLE_REASONS)[number];

/**
 * What the adapters measured for one gate: both cohorts over the same window, cumulative since the rollout
 * started; or why nothing could be measured.
 */
export type GateSignal =
  | { kind: "rate"; candidate: RateSample; control: RateSample }
  | { kind: "mean"; candidate: MeanSample; control: MeanSample }
  | { kind: "unavailable"; reason: UnavailableReason; detail: string };

export const INCONCLUSIVE_REASONS = [
  ...UNAVAILABLE_REASONS,
  /** Fewer samples than the gate's minimum in a cohort. */
  "too-few-samples",
  /** Numbers that cannot be counts (negative, more errors than requests, the wrong kind for the gate). */
  "invalid-signal",
  /** Enough data, but the interval still contains the threshold. */
  "undecided",
] as const;
export type InconclusiveReason = (typeof INCONCLUSIVE_REASONS)[number];

export type Verdict = "pass" | "breach" | "inconclusive";

export interface GateEvaluation {
  gate: string;
  metric: GateMetric;
  verdict: Verdict;
  /** Set when inconclusive. */
  reason: InconclusiveReason | null;
  /** One line for people: what was measured and why that is the verdict. */
  detail: string;
  /** The gate's largest tolerated increase (a fraction for rates, milliseconds for latency). */
  threshold: number;
  /** Samples of each cohort (requests, or latency observations), when there was a signal. */
  samples: { candidate: number; control: number } | null;
  /** The difference and its always-valid interval, when computed. */
  comparison: Comparison | null;
  /** The error level this gate was tested at (its share of the policy's). */
  alpha: number;
}

const isCount = (x: number): boolean => Number.isFinite(x) && x >= 0;

/** The verdict of one gate on its signal (undefined: nothing was measured). */
export function evaluateGate(gate: Gate, signal: GateSignal | undefined, alpha: number): GateEvaluation {
  const base = { gate: gate.name, metric: gate.metric, threshold: gate.maxIncrease, alpha };
  const inconclusive = (
    reason: InconclusiveReason,
    detail: string,
    samples: GateEvaluation["samples"] = null,
    comparison: Comparison | null = null,
  ): GateEvaluation => ({ ...base, verdict: "inconclusive", reason, detail, samples, comparison });

  if (signal === undefined) return inconclusive("no-data", "no signal for this gate yet");
  if (signal.kind === "unavailable") return inconclusive(signal.reason, signal.detail);
  const wanted = gate.metric === "latency" ? "mean" : "rate";
  if (signal.kind !== wanted)
    return inconclusive("invalid-signal", `a ${signal.kind} signal for a ${gate.metric} gate`);

  let samples: { candidate: number; control: number };
  if (signal.kind === "rate") {
    const values = [signal.candidate.events, signal.candidate.trials, signal.control.events, signal.control.trials];
    if (values.some(Number.isNaN)) return inconclusive("not-a-number", "a count is NaN");
    if (!values.every(isCount)) return inconclusive("invalid-signal", "a count is negative or infinite");
    if (signal.candidate.events > signal.candidate.trials || signal.control.events > signal.control.trials)
      return inconclusive("invalid-signal", "more bad events than events in a cohort");
    samples = { candidate: signal.candidate.trials, control: signal.control.trials };
  } else {
    const values = [signal.candidate, signal.control].flatMap((s) => [s.count, s.sum, s.sumSquares]);
    if (values.some(Number.isNaN)) return inconclusive("not-a-number", "a latency summary is NaN");
    if (!values.every(isCount)) return inconclusive("invalid-signal", "a latency summary is negative or infinite");
    // Σx² ≥ (Σx)²/n for any real numbers: a summary that says otherwise was not computed from observations.
    for (const s of [signal.candidate, signal.control])
      if (s.count > 0 && s.sumSquares * s.count < s.sum * s.sum * (1 - 1e-9))
        return inconclusive("invalid-signal", "a latency summary is inconsistent (sum of squares below sum²/count)");
    samples = { candidate: signal.candidate.count, control: signal.control.count };
  }
  if (samples.candidate === 0 || samples.control === 0)
    return inconclusive(
      "no-data",
      `no samples in the ${samples.candidate === 0 ? "candidate" : "control"} cohort`,
      samples,
    );
  if (samples.candidate < gate.minSamples || samples.control < gate.minSamples)
    return inconclusive(
      "too-few-samples",
      `${fmtCount(samples.candidate)} candidate and ${fmtCount(samples.control)} control samples; each cohort needs ${fmtCount(gate.minSamples)}`,
      samples,
    );

  const c =
    signal.kind === "rate"
      ? compareRates(signal.candidate, signal.control, alpha, gate.maxIncrease)
      : compareMeans(signal.candidate, signal.control, alpha, gate.maxIncrease);
  if (![c.estimate, c.lower, c.upper].every(Number.isFinite))
    return inconclusive("not-a-number", "the comparison is not a number", samples);
  const what = describeComparison(gate, c);
  if (c.lower > gate.maxIncrease)
    return { ...base, verdict: "breach", reason: null, detail: `${what}: above the threshold`, samples, comparison: c };
  if (c.upper < gate.maxIncrease)
    return { ...base, verdict: "pass", reason: null, detail: `${what}: below the threshold`, samples, comparison: c };
  return inconclusive("undecided", `${what}: the interval still contains the threshold`, samples, c);
}

/** `error rate 6.1% vs 1.0% (+5.1 points, interval +4.2 to +6.0; threshold +0.5)`. */
function describeComparison(gate: Gate, c: Comparison): string {
  if (gate.metric === "latency") {
    const ms = (x: number, sign = false): string => `${sign && x >= 0 ? "+" : ""}${round(x, 1)}ms`;
    return `mean latency ${ms(c.candidate)} vs ${ms(c.control)} (${ms(c.estimate, true)}, interval ${ms(c.lower, true)} to ${ms(c.upper, true)}; threshold ${ms(gate.maxIncrease, true)})`;
  }
  const pct = (x: number): string => `${round(x * 100, 2)}%`;
  const pts = (x: number): string => `${x >= 0 ? "+" : ""}${round(x * 100, 2)}`;
  const label = gate.metric === "error-rate" ? "error rate" : `${gate.name} ratio`;
  return `${label} ${pct(c.candidate)} vs ${pct(c.control)} (${pts(c.estimate)} points, interval ${pts(c.lower)} to ${pts(c.upper)}; threshold ${pts(gate.maxIncrease)})`;
}

function round(x: number, digits: number): string {
  return Number(x.toFixed(digits)).toString();
}

/** 12,345 (without Intl, which is slow on a path a server takes for every report). */
function fmtCount(n: number): string {
  return String(Math.round(n)).replace(/\B(?=(\d{3})+(?!\d))/g, ",");
}
