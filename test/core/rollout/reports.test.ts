// Health reports: garbage is refused, floods add no weight, and no single client can move a gate alone.
import { describe, expect, it } from "vitest";
import {
  addReport,
  cohortTotals,
  emptyAggregate,
  evaluateGate,
  parseHealthReport,
  reportSignals,
  type Gate,
  type HealthReport,
} from "../../../src/core/rollout/index.js";

const T0 = Date.parse("2026-03-02T10:00:00Z");
const report = (over: Partial<HealthReport> = {}): HealthReport => ({
  instance: "pod-1",
  version: 42,
  requests: 100,
  errors: 1,
  intervalMs: 5000,
  ...over,
});

describe("parsing a report", () => {
  it("accepts a well-formed report", () => {
    const r = parseHealthReport({ ...report(), latency: { count: 100, sum: 12_000, sumSquares: 1_600_000 } });
    expect(r).toEqual({
      ok: true,
      report: { ...report(), latency: { count: 100, sum: 12_000, sumSquares: 1_600_000 } },
    });
  });

  it.each<[string, unknown, RegExp]>([
    ["not an object", [1, 2], /JSON object/],
    ["an unknown field", { ...report(), extra: 1 }, /unknown field "extra"/],
    ["a fractional count", { ...report(), requests: 10.5 }, /requests must be a whole number/],
    ["a negative count", { ...report(), errors: -1 }, /errors must be/],
    ["more errors than requests", { ...report(), errors: 101 }, /at most requests/],
    ["NaN", { ...report(), requests: Number.NaN }, /requests must be/],
    ["a huge count", { ...report(), requests: 1e15 }, /requests must be|requests per second/],
    [
      "an implausible rate",
      { ...report(), requests: 10_000_000, intervalMs: 1000 },
      /more than 100000 requests per second/,
    ],
    ["a week-long batch", { ...report(), intervalMs: 7 * 86_400_000 }, /intervalMs must be/],
    [
      "an impossible latency summary",
      { ...report(), latency: { count: 100, sum: 10_000, sumSquares: 10 } },
      /inconsistent/,
    ],
    ["a latency of days", { ...report(), latency: { count: 1, sum: 1e10, sumSquares: 1e20 } }, /more than an hour/],
    ["more latencies than requests", { ...report(), latency: { count: 101, sum: 1, sumSquares: 1 } }, /latency.count/],
    ["an instance id with spaces", { ...report(), instance: "pod 1" }, /instance must be/],
    ["version 0", { ...report(), version: 0 }, /version must be/],
  ])("refuses %s", (_, value, problem) => {
    const r = parseHealthReport(value);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem).toMatch(problem);
  });
});

describe("aggregating reports", () => {
  it("adds up a cohort's instances", () => {
    const agg = emptyAggregate();
    for (let i = 0; i < 10; i++) addReport(agg, report({ instance: `pod-${i}` }), T0);
    expect(cohortTotals(agg, 42)).toMatchObject({ rate: { events: 10, trials: 1000 }, instances: 10 });
    expect(cohortTotals(agg, 41)).toMatchObject({ rate: { events: 0, trials: 0 }, instances: 0 });
  });

  it("a flood of the same report adds no more than the instance could have served since it first reported", () => {
    const agg = emptyAggregate();
    const limits = { maxRequestsPerSecond: 100, maxIntervalMs: 300_000, weightCap: 5 };
    // 5 s at 100 req/s: 500 requests at most, however many reports claim them.
    let counted = 0;
    for (let i = 0; i < 1000; i++) counted += addReport(agg, report({ requests: 400, errors: 0 }), T0, limits);
    expect(counted).toBe(500);
    expect(cohortTotals(agg, 42, limits).rate.trials).toBe(500);
    // Later, the budget grows with the time that passed.
    expect(addReport(agg, report({ requests: 400, errors: 0 }), T0 + 10_000, limits)).toBe(400);
  });

  it("one client cannot dilute a breach by reporting a mountain of good requests", () => {
    const gate: Gate = { name: "error-rate", metric: "error-rate", maxIncrease: 0.005, minSamples: 1000 };
    const agg = emptyAggregate();
    // 10 candidate instances at 6% errors, 190 control instances at 1%, 12 rounds of reports.
    for (let round = 1; round <= 12; round++) {
      const now = T0 + round * 5000;
      for (let i = 0; i < 10; i++)
        addReport(agg, report({ instance: `cand-${i}`, version: 42, requests: 100, errors: 6 }), now);
      for (let i = 0; i < 190; i++)
        addReport(agg, report({ instance: `ctrl-${i}`, version: 41, requests: 100, errors: 1 }), now);
      // The liar: in the candidate cohort, claims the most the rate limit allows, with no errors.
      addReport(agg, report({ instance: "liar", version: 42, requests: 500_000, errors: 0 }), now);
    }
    const signals = reportSignals(agg, [gate], { stable: 41, candidate: 42 });
    const verdict = evaluateGate(gate, signals["error-rate"], 0.01);
    expect(verdict.verdict).toBe("breach");
    // Without the weight cap the liar's requests would have hidden the 6%.
    const raw = agg.versions["42"]!;
    const rawRate =
      Object.values(raw).reduce((a, i) => a + i.errors, 0) / Object.values(raw).reduce((a, i) => a + i.requests, 0);
    expect(rawRate).toBeLessThan(0.001);
  });

  it("an instance id that names an object prototype member is an ordinary key", () => {
    const agg = emptyAggregate();
    addReport(agg, report({ instance: "__proto__" }), T0);
    addReport(agg, report({ instance: "constructor" }), T0);
    expect(cohortTotals(agg, 42).instances).toBe(2);
    expect(Object.getPrototypeOf(agg.versions["42"])).toBe(Object.prototype);
    // The aggregate survives the store: JSON out and back.
    const back = JSON.parse(JSON.stringify(agg)) as typeof agg;
    addReport(back, report({ instance: "__proto__" }), T0 + 10_000);
    expect(cohortTotals(back, 42).rate.trials).toBe(300);
  });

  it("latency gates get the latency summary", () => {
    const gate: Gate = { name: "latency", metric: "latency", maxIncrease: 25, minSamples: 10 };
    const agg = emptyAggregate();
    addReport(agg, report({ latency: { count: 100, sum: 10_000, sumSquares: 1_100_000 } }), T0);
    const signals = reportSignals(agg, [gate], { stable: 41, candidate: 42 });
    expect(signals.latency).toEqual({
      kind: "mean",
      candidate: { count: 100, sum: 10_000, sumSquares: 1_100_000 },
      control: { count: 0, sum: 0, sumSquares: 0 },
    });
  });
});
