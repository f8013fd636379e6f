// The statistics, end to end, by seeded simulation of rollouts against synthetic traffic (simulate.ts runs the
// real cohort code and the real decision engine on every round of reports).
import { describe, expect, it } from "vitest";
import { binomial, createRandom, simulateRollout, type RolloutPolicy } from "../../../src/core/rollout/index.js";

const canary = (bakeMinutes: number): RolloutPolicy => ({
  declaredIn: "production",
  strategy: { kind: "canary", percent: 500, bake: bakeMinutes * 60_000 },
  gates: [{ name: "error-rate", metric: "error-rate", maxIncrease: 0.005, minSamples: 1000 }],
  freeze: [],
  confidence: 9900,
});
// 200 instances at 20 requests per second, reporting every 5 seconds.
const traffic = { instances: 200, requestsPerSecond: 20, reportEveryMs: 5000 };

describe("rollouts by simulation", () => {
  it("over 1,000 no-change rollouts at most 1% roll back (and the rest are promoted)", () => {
    const outcomes = { promoted: 0, "rolled-back": 0, held: 0 };
    for (let seed = 1; seed <= 1000; seed++) {
      const r = simulateRollout({ policy: canary(5), ...traffic, errorRate: { stable: 0.01, candidate: 0.01 }, seed });
      outcomes[r.outcome]++;
    }
    expect(outcomes["rolled-back"]).toBeLessThanOrEqual(10);
    expect(outcomes.promoted).toBe(1000 - outcomes["rolled-back"]);
  });

  it("an error rate of 1% -> 6% in a 5% canary is rolled back, well within two minutes, every time of 200", () => {
    for (let seed = 1; seed <= 200; seed++) {
      const r = simulateRollout({ policy: canary(15), ...traffic, errorRate: { stable: 0.01, candidate: 0.06 }, seed });
      expect(r.outcome).toBe("rolled-back");
      expect(r.elapsedMs).toBeLessThanOrEqual(120_000);
      expect(r.decision.action).toBe("rollback");
    }
  });

  it("a quiet service with too few samples holds: neither promoted nor rolled back", () => {
    const r = simulateRollout({
      policy: canary(15),
      instances: 20,
      requestsPerSecond: 0.2,
      reportEveryMs: 5000,
      errorRate: { stable: 0.01, candidate: 0.5 },
      seed: 1,
      maxMs: 3_600_000,
    });
    expect(r.outcome).toBe("held");
    expect(r.decision.action === "hold" && r.decision.holds.map((h) => h.code)).toEqual(["gate"]);
    expect(r.decision.reason).toMatch(/too-few-samples/);
  });

  it("is deterministic: the same seed, the same run", () => {
    const input = { policy: canary(15), ...traffic, errorRate: { stable: 0.01, candidate: 0.02 }, seed: 42 };
    expect(simulateRollout(input)).toEqual(simulateRollout(input));
  });

  it("draws binomials with the right mean and variance", () => {
    const random = createRandom(3);
    const [n, p, draws] = [19_000, 0.01, 5000];
    const xs = Array.from({ length: draws }, () => binomial(n, p, random));
    const mean = xs.reduce((a, b) => a + b, 0) / draws;
    const variance = xs.reduce((a, x) => a + (x - mean) ** 2, 0) / (draws - 1);
    expect(Math.abs(mean - n * p)).toBeLessThan(4 * Math.sqrt((n * p * (1 - p)) / draws));
    expect(variance / (n * p * (1 - p))).toBeGreaterThan(0.9);
    expect(variance / (n * p * (1 - p))).toBeLessThan(1.1);
    expect(binomial(100, 0.9, random)).toBeGreaterThan(70);
  });
});
