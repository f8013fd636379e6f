import { describe, expect, it } from "vitest";
import {
  applyDecision,
  decide,
  gateAlpha,
  operate,
  startRollout,
  type Decision,
  type GateSignal,
  type RolloutPolicy,
  type RolloutState,
} from "../../../src/core/rollout/index.js";

const MIN = 60_000;
const T0 = Date.parse("2026-03-02T10:00:00Z"); // a Monday
const stable = { version: 41, digest: `sha256:${"a".repeat(64)}` };
const candidate = { version: 42, digest: `sha256:${"b".repeat(64)}` };

const linear: RolloutPolicy = {
  declaredIn: "production",
  strategy: { kind: "linear", step: 2500, every: 5 * MIN },
  gates: [
    { name: "error-rate", metric: "error-rate", maxIncrease: 0.005, minSamples: 1000 },
    { name: "latency", metric: "latency", maxIncrease: 25, minSamples: 1000 },
  ],
  freeze: [{ kind: "weekly", days: ["fri"], from: 15 * 60, until: 24 * 60, timeZone: "UTC", reason: "weekend" }],
  confidence: 9900,
};

const healthy: Record<string, GateSignal> = {
  "error-rate": {
    kind: "rate",
    candidate: { events: 500, trials: 50_000 },
    control: { events: 1500, trials: 150_000 },
  },
  latency: {
    kind: "mean",
    candidate: { count: 50_000, sum: 50_000 * 120, sumSquares: 50_000 * (120 * 120 + 400) },
    control: { count: 150_000, sum: 150_000 * 120, sumSquares: 150_000 * (120 * 120 + 400) },
  },
};
const failing: Record<string, GateSignal> = {
  ...healthy,
  "error-rate": {
    kind: "rate",
    candidate: { events: 3000, trials: 50_000 },
    control: { events: 1500, trials: 150_000 },
  },
};

function start(policy = linear, now = T0): RolloutState {
  const r = startRollout({ policy, rolloutId: "production@v42.p7", environment: "production", stable, candidate, now });
  if (!r.ok) throw new Error(r.reason);
  return r.state;
}

describe("the decision engine", () => {
  it("walks a linear rollout step by step and promotes after the last one", () => {
    let state = start();
    expect(state).toMatchObject({ phase: "progressing", step: 0, percent: 2500 });
    const seen: string[] = [];
    let now = T0;
    for (let i = 0; i < 10 && state.phase === "progressing"; i++) {
      now += 5 * MIN;
      const d = decide({ policy: linear, state, now, signals: healthy });
      seen.push(d.action === "advance" ? `advance ${d.percent}` : d.action);
      state = applyDecision(state, d, now);
    }
    expect(seen).toEqual(["advance 5000", "advance 7500", "promote"]);
    expect(state).toMatchObject({ phase: "promoted", percent: 10_000 });
    expect(decide({ policy: linear, state, now, signals: failing }).action).toBe("none");
  });

  it("holds until the step is waited out, and says how long is left", () => {
    const d = decide({ policy: linear, state: start(), now: T0 + 2 * MIN, signals: healthy });
    expect(d.action).toBe("hold");
    if (d.action !== "hold") return;
    expect(d.holds).toEqual([{ code: "waiting", detail: "step 1 at 25% holds for 5m; 3m to go", until: T0 + 5 * MIN }]);
  });

  it("rolls back on a breach at once, before the step is waited out, with metric, value, threshold, samples and interval", () => {
    const d = decide({ policy: linear, state: start(), now: T0 + 30_000, signals: failing });
    expect(d.action).toBe("rollback");
    if (d.action !== "rollback") return;
    expect(d.breaches).toHaveLength(1);
    const b = d.breaches[0]!;
    expect(b).toMatchObject({
      gate: "error-rate",
      metric: "error-rate",
      threshold: 0.005,
      samples: { candidate: 50_000, control: 150_000 },
      window: { from: T0, to: T0 + 30_000 },
      confidence: 0.995,
    });
    expect(b.value).toBeCloseTo(0.06, 12);
    expect(b.control).toBeCloseTo(0.01, 12);
    expect(b.interval[0]).toBeGreaterThan(0.005);
    expect(b.interval[0]).toBeLessThan(b.difference);
    expect(d.reason).toMatch(/^gate error-rate: error rate 6% vs 1% \(\+5 points/);
    expect(applyDecision(start(), d, T0 + 30_000)).toMatchObject({ phase: "rolled-back", percent: 0 });
  });

  it.each<[string, Record<string, GateSignal>]>([
    ["no data at all", {}],
    ["a failing query", { ...healthy, latency: { kind: "unavailable", reason: "query-failed", detail: "HTTP 503" } }],
    [
      "NaN",
      {
        ...healthy,
        "error-rate": {
          kind: "rate",
          candidate: { events: Number.NaN, trials: 5000 },
          control: { events: 10, trials: 5000 },
        },
      },
    ],
    [
      "too few samples",
      {
        ...healthy,
        "error-rate": {
          kind: "rate",
          candidate: { events: 90, trials: 900 },
          control: { events: 10, trials: 100_000 },
        },
      },
    ],
  ])("%s holds, names the gate, and never advances or rolls back", (_, signals) => {
    const d = decide({ policy: linear, state: start(), now: T0 + 60 * MIN, signals });
    expect(d.action).toBe("hold");
    if (d.action !== "hold") return;
    expect(d.holds.every((h) => h.code === "gate")).toBe(true);
    expect(d.holds.map((h) => h.gate).length).toBeGreaterThan(0);
    expect(d.reason).toMatch(/inconclusive/);
  });

  it("a pause holds advancing but not a rollback; resume continues", () => {
    const paused = operate(start(), "pause", "alice");
    expect(paused.ok).toBe(true);
    if (!paused.ok) return;
    const hold = decide({ policy: linear, state: paused.state, now: T0 + 10 * MIN, signals: healthy });
    expect(hold.action === "hold" && hold.holds.map((h) => h.code)).toEqual(["paused"]);
    expect(decide({ policy: linear, state: paused.state, now: T0 + 10 * MIN, signals: failing }).action).toBe(
      "rollback",
    );
    const resumed = operate(paused.state, "resume", "alice");
    expect(
      resumed.ok && decide({ policy: linear, state: resumed.state, now: T0 + 10 * MIN, signals: healthy }).action,
    ).toBe("advance");
  });

  it("a freeze holds advancing and promotion but never a rollback", () => {
    const friday = Date.parse("2026-03-06T16:00:00Z");
    const state = { ...start(), startedAt: friday - 60 * MIN, stepStartedAt: friday - 60 * MIN };
    const d = decide({ policy: linear, state, now: friday, signals: healthy });
    expect(d.action).toBe("hold");
    if (d.action === "hold")
      expect(d.holds).toEqual([
        {
          code: "frozen",
          detail: "changes are frozen (weekend) until 2026-03-07T00:00:00.000Z",
          until: Date.parse("2026-03-07T00:00:00Z"),
        },
      ]);
    expect(decide({ policy: linear, state, now: friday, signals: failing }).action).toBe("rollback");
  });

  it("a push during a freeze is refused unless it takes the emergency path, which is recorded", () => {
    const friday = Date.parse("2026-03-06T16:00:00Z");
    const base = { policy: linear, rolloutId: "r", environment: "production", stable, candidate, now: friday };
    expect(startRollout(base)).toEqual({
      ok: false,
      code: "frozen",
      reason: "changes to production are frozen (weekend) until 2026-03-07T00:00:00.000Z",
      until: Date.parse("2026-03-07T00:00:00Z"),
    });
    const emergency = startRollout({ ...base, emergency: true });
    expect(emergency.ok && emergency.emergency).toBe(true);
    expect(emergency.ok && emergency.state.reason).toBe("started at 25% (emergency: during a freeze)");
  });

  it("all-at-once is promoted at the start; canary waits its bake and promotes", () => {
    const all: RolloutPolicy = {
      declaredIn: null,
      strategy: { kind: "all-at-once" },
      gates: [],
      freeze: [],
      confidence: 9900,
    };
    expect(start(all)).toMatchObject({ phase: "promoted", percent: 10_000 });
    const canary: RolloutPolicy = { ...linear, strategy: { kind: "canary", percent: 500, bake: 15 * MIN } };
    const s = start(canary);
    expect(s.percent).toBe(500);
    expect(decide({ policy: canary, state: s, now: T0 + 14 * MIN, signals: healthy }).action).toBe("hold");
    expect(decide({ policy: canary, state: s, now: T0 + 15 * MIN, signals: healthy }).action).toBe("promote");
  });

  it("operators: pause, resume, abort and promote, each once and never after the end", () => {
    const s = start();
    expect(operate(s, "resume", "bob")).toEqual({ ok: false, reason: "the rollout is not paused" });
    const aborted = operate(s, "abort", "bob");
    expect(aborted.ok && aborted.state).toMatchObject({ phase: "aborted", percent: 0, reason: "aborted by bob" });
    if (aborted.ok)
      expect(operate(aborted.state, "promote", "bob")).toEqual({ ok: false, reason: "the rollout is already aborted" });
    const promoted = operate(s, "promote", "bob");
    expect(promoted.ok && promoted.state).toMatchObject({ phase: "promoted", percent: 10_000 });
  });

  it("splits the policy's error level across its gates", () => {
    expect(gateAlpha(linear)).toBeCloseTo(0.005, 12);
    expect(gateAlpha({ ...linear, gates: [] })).toBeCloseTo(0.01, 12);
  });

  it("is a pure function: the same input, the same decision", () => {
    const input = { policy: linear, state: start(), now: T0 + 5 * MIN, signals: healthy };
    const a: Decision = decide(input);
    expect(decide(structuredClone(input))).toEqual(a);
  });
});
