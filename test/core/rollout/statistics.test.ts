import { describe, expect, it } from "vitest";
import {
  compareMeans,
  compareRates,
  createRandom,
  evaluateGate,
  mixtureHalfWidth,
  sampleVariance,
  type Gate,
  type GateSignal,
  type MeanSample,
} from "../../../src/core/rollout/index.js";

function add(s: MeanSample, x: number): void {
  s.count++;
  s.sum += x;
  s.sumSquares += x * x;
}

describe("the normal-mixture confidence sequence", () => {
  it("has the closed-form half-width h² = V(V+τ²)/τ² · (2 ln(1/α) + ln((V+τ²)/V))", () => {
    // V = τ² = 1e-4, α = 0.01: h² = 2e-4 · (2 ln 100 + ln 2).
    expect(mixtureHalfWidth(1e-4, 0.01, 0.01)).toBeCloseTo(Math.sqrt(2e-4 * (2 * Math.log(100) + Math.log(2))), 12);
    expect(mixtureHalfWidth(0, 0.01, 0.01)).toBe(0);
    // Tighter with more data, wider at a smaller α.
    expect(mixtureHalfWidth(1e-6, 0.01, 0.01)).toBeLessThan(mixtureHalfWidth(1e-5, 0.01, 0.01));
    expect(mixtureHalfWidth(1e-6, 0.01, 0.001)).toBeGreaterThan(mixtureHalfWidth(1e-6, 0.01, 0.01));
  });

  it("a cohort without errors yet does not claim certainty", () => {
    const c = compareRates({ events: 0, trials: 1000 }, { events: 0, trials: 20_000 }, 0.01, 0.005);
    expect(c.estimate).toBe(0);
    expect(c.upper).toBeGreaterThan(0.0015);
  });

  it("sample variance from count, sum and sum of squares", () => {
    const xs = [3, 5, 7, 11];
    const s: MeanSample = { count: 4, sum: 26, sumSquares: xs.reduce((a, x) => a + x * x, 0) };
    expect(sampleVariance(s)).toBeCloseTo(((3 - 6.5) ** 2 + (5 - 6.5) ** 2 + (7 - 6.5) ** 2 + (11 - 6.5) ** 2) / 3, 12);
  });

  // The property the gates rely on: looked at after every batch, for as long as the rollout runs, the
  // intervals miss the true difference in at most α of the runs. The same looks at a fixed-sample 99%
  // interval miss far more often: why a sequential test.
  it("stays valid however often it is checked; a fixed-sample interval checked as often does not", () => {
    const random = createRandom(7);
    const normal = (): number => Math.sqrt(-2 * Math.log(1 - random())) * Math.cos(2 * Math.PI * random());
    const runs = 400;
    const looks = 200;
    const alpha = 0.01;
    let sequentialMisses = 0;
    let naiveMisses = 0;
    for (let r = 0; r < runs; r++) {
      const a: MeanSample = { count: 0, sum: 0, sumSquares: 0 };
      const b: MeanSample = { count: 0, sum: 0, sumSquares: 0 };
      let seqMissed = false;
      let naiveMissed = false;
      for (let look = 0; look < looks; look++) {
        for (let i = 0; i < 20; i++) {
          const x = 100 + 10 * normal();
          const y = 100 + 10 * normal();
          add(a, x);
          add(b, y);
        }
        const c = compareMeans(a, b, alpha, 1);
        if (c.lower > 0 || c.upper < 0) seqMissed = true;
        const se = Math.sqrt(sampleVariance(a) / a.count + sampleVariance(b) / b.count);
        if (Math.abs(c.estimate) > 2.576 * se) naiveMissed = true;
      }
      if (seqMissed) sequentialMisses++;
      if (naiveMissed) naiveMisses++;
    }
    expect(sequentialMisses / runs).toBeLessThanOrEqual(alpha);
    expect(naiveMisses / runs).toBeGreaterThan(3 * alpha);
  });
});

describe("a gate's verdict", () => {
  const rateGate: Gate = { name: "errors", metric: "error-rate", maxIncrease: 0.005, minSamples: 1000 };
  const latencyGate: Gate = { name: "latency", metric: "latency", maxIncrease: 25, minSamples: 500 };
  const rate = (ce: number, ct: number, ke: number, kt: number): GateSignal => ({
    kind: "rate",
    candidate: { events: ce, trials: ct },
    control: { events: ke, trials: kt },
  });

  it.each<[string, Gate, GateSignal | undefined, string]>([
    ["nothing measured", rateGate, undefined, "no-data"],
    [
      "an empty query",
      rateGate,
      { kind: "unavailable", reason: "no-data", detail: "the query matched no series" },
      "no-data",
    ],
    ["a failing query", rateGate, { kind: "unavailable", reason: "query-failed", detail: "503" }, "query-failed"],
    ["a NaN from the source", rateGate, { kind: "unavailable", reason: "not-a-number", detail: "NaN" }, "not-a-number"],
    ["a NaN count", rateGate, rate(Number.NaN, 5000, 50, 100_000), "not-a-number"],
    ["a negative count", rateGate, rate(-1, 5000, 50, 100_000), "invalid-signal"],
    ["an infinite count", rateGate, rate(1, Infinity, 50, 100_000), "invalid-signal"],
    ["more errors than requests", rateGate, rate(6000, 5000, 50, 100_000), "invalid-signal"],
    ["no candidate traffic", rateGate, rate(0, 0, 50, 100_000), "no-data"],
    ["too few samples", rateGate, rate(30, 999, 50, 100_000), "too-few-samples"],
    [
      "a latency signal for a rate gate",
      rateGate,
      { kind: "mean", candidate: { count: 1, sum: 1, sumSquares: 1 }, control: { count: 1, sum: 1, sumSquares: 1 } },
      "invalid-signal",
    ],
    [
      "an impossible latency summary",
      latencyGate,
      {
        kind: "mean",
        candidate: { count: 1000, sum: 100_000, sumSquares: 10 },
        control: { count: 1000, sum: 100_000, sumSquares: 1e7 },
      },
      "invalid-signal",
    ],
    ["a difference too close to call", rateGate, rate(60, 5000, 1000, 100_000), "undecided"],
  ])("%s is inconclusive (%s): never a pass, never a rollback", (_, gate, signal, reason) => {
    const e = evaluateGate(gate, signal, 0.01);
    expect(e.verdict).toBe("inconclusive");
    expect(e.reason).toBe(reason);
  });

  it("a clear increase is a breach, with the numbers that show it", () => {
    const e = evaluateGate(rateGate, rate(300, 5000, 1000, 100_000), 0.01);
    expect(e.verdict).toBe("breach");
    expect(e.samples).toEqual({ candidate: 5000, control: 100_000 });
    expect(e.comparison!.candidate).toBeCloseTo(0.06, 12);
    expect(e.comparison!.control).toBeCloseTo(0.01, 12);
    expect(e.comparison!.lower).toBeGreaterThan(0.005);
    expect(e.detail).toMatch(
      /^error rate 6% vs 1% \(\+5 points, interval \+[\d.]+ to \+[\d.]+; threshold \+0\.5\): above the threshold$/,
    );
  });

  it("the same rate with enough data is a pass; a latency regression is a breach", () => {
    expect(evaluateGate(rateGate, rate(500, 50_000, 1000, 100_000), 0.01).verdict).toBe("pass");
    const lat = (n: number, mean: number, sd: number): MeanSample => ({
      count: n,
      sum: n * mean,
      sumSquares: n * (sd * sd + mean * mean),
    });
    expect(
      evaluateGate(latencyGate, { kind: "mean", candidate: lat(5000, 180, 40), control: lat(50_000, 120, 40) }, 0.01)
        .verdict,
    ).toBe("breach");
    expect(
      evaluateGate(latencyGate, { kind: "mean", candidate: lat(5000, 121, 40), control: lat(50_000, 120, 40) }, 0.01)
        .verdict,
    ).toBe("pass");
  });
});
