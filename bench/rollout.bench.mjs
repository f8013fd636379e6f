#!/usr/bin/env node
// Progressive delivery, by seeded simulation (src/core/rollout/simulate.ts runs the real cohort code and the
// real decision engine on every round of reports), each row beside its peers in the same run:
//   strata            the normal-mixture confidence sequence against the concurrent control (decide.ts)
//   repeated z-test   a fixed-sample 99% z-test of the same difference, checked at every report (peeking)
//   static alarm      the candidate's own error rate over the last minute against a fixed threshold, checked
//                     once a minute, no control group (a CloudWatch alarm as AWS AppConfig uses it)
// Then the cohort share at 10,000 instance ids (calibrated to the fleet vs a plain hash) and the engine's speed.
// Usage: npm run build && node bench/rollout.bench.mjs [--quick]
import { existsSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { machine, median, root, table } from "./lib.mjs";

const dist = join(root, "dist/core/rollout/index.js");
if (!existsSync(dist)) {
  console.error("bench/rollout.bench.mjs needs the build: run `npm run build` first");
  process.exit(1);
}
const rollout = await import(dist);
const { parseSigningKey, createSnapshot, computeContentDigest } = await import(
  join(root, "dist/core/snapshot/index.js")
);
const {
  simulateRollout,
  decide,
  calibratedBoundary,
  uniformBoundary,
  cohortPosition,
  shareInRange,
  createPlan,
  signedVersion,
  verifyPlan,
  serializePlan,
} = rollout;

const quick = process.argv.includes("--quick");
const RUNS = quick ? 200 : 1000;
const load = () =>
  loadavg()
    .map((x) => x.toFixed(2))
    .join(", ");
console.log(
  `# strata rollout benchmarks\n\nmachine: ${machine()}\nload average at start: ${load()}\nruns per row: ${RUNS}`,
);

const MIN = 60_000;
const TOLERANCE = 0.005; // the gate's max_increase: half a percentage point
const policy = {
  declaredIn: "production",
  strategy: { kind: "canary", percent: 500, bake: 15 * MIN },
  gates: [{ name: "error-rate", metric: "error-rate", maxIncrease: TOLERANCE, minSamples: 1000 }],
  freeze: [],
  confidence: 9900,
};
// The fleet: 200 instances at 20 requests per second each, reporting every 5 seconds; a 5% canary.
const traffic = { policy, instances: 200, requestsPerSecond: 20, reportEveryMs: 5000 };

const hold = (reason) => ({ action: "hold", holds: [], reason, evaluations: [] });
const rollback = (reason) => ({ action: "rollback", breaches: [], reason, evaluations: [] });
const promote = (reason) => ({ action: "promote", reason, evaluations: [] });

/** Peer 1: a 99% one-sided z-test of candidate − control > tolerance, looked at after every report. */
function repeatedZTest({ state, now, signals }) {
  const s = signals["error-rate"];
  const n1 = s.candidate.trials;
  const n0 = s.control.trials;
  if (n1 < 1000 || n0 < 1000) return hold("too few samples");
  const p1 = s.candidate.events / n1;
  const p0 = s.control.events / n0;
  const se = Math.sqrt((p1 * (1 - p1)) / n1 + (p0 * (1 - p0)) / n0) || 1e-12;
  const z = (p1 - p0 - TOLERANCE) / se;
  if (z > 2.326) return rollback(`z = ${z.toFixed(2)}`);
  if (now - state.stepStartedAt >= policy.strategy.bake && z < -2.326) return promote("z-test passed");
  return hold("waiting");
}

/** Peer 2: the candidate's error rate over the last minute above a fixed 1.5%, checked once a minute. */
function staticAlarm() {
  let last = null;
  return ({ state, now, signals }) => {
    const s = signals["error-rate"].candidate;
    if (last === null) last = { at: state.startedAt, events: 0, trials: 0 };
    if (now - last.at < MIN) return hold("between evaluations");
    const rate = (s.events - last.events) / Math.max(1, s.trials - last.trials);
    last = { at: now, events: s.events, trials: s.trials };
    if (rate > 0.01 + TOLERANCE) return rollback(`error rate ${(rate * 100).toFixed(2)}% over the last minute`);
    if (now - state.stepStartedAt >= policy.strategy.bake) return promote("no alarm");
    return hold("waiting");
  };
}

const peers = [
  ["strata (confidence sequence vs control)", () => decide],
  ["repeated z-test (peeking)", () => repeatedZTest],
  ["static alarm, no control (AppConfig-style)", staticAlarm],
];

function runMany(errorRate, seedBase, extra = {}) {
  return peers.map(([name, make]) => {
    const outcomes = { promoted: 0, "rolled-back": 0, held: 0 };
    const seconds = [];
    const reports = [];
    for (let i = 0; i < RUNS; i++) {
      const r = simulateRollout({ ...traffic, ...extra, errorRate, seed: seedBase + i, decide: make() });
      outcomes[r.outcome]++;
      if (r.outcome === "rolled-back") {
        seconds.push(r.elapsedMs / 1000);
        reports.push(r.reports);
      }
    }
    return { name, outcomes, seconds, reports };
  });
}

const pct = (n) => `${((n / RUNS) * 100).toFixed(1)}%`;
const q = (xs, p) => {
  if (xs.length === 0) return "–";
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(p * s.length))];
};

// --- detection: 1% -> 6% (and a smaller 1% -> 2%)
for (const [label, candidate] of [
  ["1% → 6%", 0.06],
  ["1% → 2%", 0.02],
]) {
  const t0 = performance.now();
  const rows = runMany({ stable: 0.01, candidate }, 100_000).map((r) => [
    r.name,
    pct(r.outcomes["rolled-back"]),
    median(r.reports) ?? "–",
    r.seconds.length ? `${median(r.seconds)} s` : "–",
    r.seconds.length ? `${q(r.seconds, 0.9)} s` : "–",
    r.seconds.length ? `${Math.max(...r.seconds)} s` : "–",
  ]);
  table(
    `error rate ${label} in a 5% canary of 200 instances at 20 req/s, reports every 5 s (${RUNS} seeded runs, ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    ["decider", "rolled back", "reports until decision (median)", "simulated time (median)", "p90", "max"],
    rows,
  );
}

// --- false rollbacks: no change, and no change while an incident raises every cohort's error rate
const incident = (elapsed) =>
  elapsed >= 3 * MIN && elapsed < 8 * MIN ? { stable: 0.04, candidate: 0.04 } : { stable: 0.01, candidate: 0.01 };
for (const [label, errorRate, base] of [
  ["no change (1% and 1%), bake 15 min", { stable: 0.01, candidate: 0.01 }, 200_000],
  ["no change, an incident raises every cohort to 4% from minute 3 to 8", incident, 300_000],
]) {
  const t0 = performance.now();
  const rows = runMany(errorRate, base).map((r) => [
    r.name,
    r.outcomes["rolled-back"],
    pct(r.outcomes["rolled-back"]),
    r.outcomes.promoted,
    r.outcomes.held,
  ]);
  table(
    `false rollbacks over ${RUNS} ${label} (${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    ["decider", "rolled back", "share", "promoted", "held"],
    rows,
  );
}

// --- validity at the edge: the candidate worse by exactly the tolerance (1% -> 1.5%), held for 30 minutes
{
  const t0 = performance.now();
  const rows = runMany({ stable: 0.01, candidate: 0.01 + TOLERANCE }, 400_000, { maxMs: 30 * MIN }).map((r) => [
    r.name,
    r.outcomes["rolled-back"],
    pct(r.outcomes["rolled-back"]),
  ]);
  table(
    `rollbacks when the candidate is worse by exactly the tolerance (+0.5 points): at most α = 1% allowed (${RUNS} runs of 30 min, ${((performance.now() - t0) / 1000).toFixed(1)} s)`,
    ["decider", "rolled back", "share"],
    rows,
  );
}

// --- cohort share at 10,000 instance ids
{
  const ids = Array.from({ length: 10_000 }, (_, i) => `checkout-7f9c4-${i.toString(36).padStart(5, "0")}`);
  const share = (positions, to) => shareInRange(positions, [0, to]) * 100;
  const rows = [];
  const worst = { calibrated: [], plain: [] };
  for (let r = 0; r < 20; r++) {
    const rolloutId = r === 0 ? "production@v42.p7" : `production@v${42 + r}.p${7 + r}`;
    const positions = ids.map((instance) => cohortPosition(rolloutId, { instance }));
    let cal = 0;
    let plain = 0;
    for (let target = 1; target <= 99; target++) {
      const bp = target * 100;
      const c = share(positions, calibratedBoundary(positions, bp));
      const p = share(positions, uniformBoundary(bp));
      cal = Math.max(cal, Math.abs(c - target));
      plain = Math.max(plain, Math.abs(p - target));
      if (r === 0 && [1, 5, 10, 25, 50, 75, 90, 99].includes(target))
        rows.push([`${target}%`, `${c.toFixed(2)}%`, `${p.toFixed(2)}%`]);
    }
    worst.calibrated.push(cal);
    worst.plain.push(plain);
  }
  const pts = (x) => `${x.toFixed(2)} points`;
  rows.push([
    "largest |deviation| over targets 1–99%: median of 20 rollouts",
    pts(median(worst.calibrated)),
    pts(median(worst.plain)),
  ]);
  rows.push(["… the worst of 20 rollouts", pts(Math.max(...worst.calibrated)), pts(Math.max(...worst.plain))]);
  table(
    "cohort share at 10,000 instance ids (goal: within ±0.5 points; per-target rows: rollout production@v42.p7)",
    ["target", "calibrated to the fleet (strata)", "plain hash (percentage rollouts of flag tools)"],
    rows,
  );
}

// --- the engine's speed (what a server spends per environment per report round)
{
  // Fixed Ed25519 seeds (32 bytes of 7, of 9) as PKCS#8 PEM: the rollout key and a publishing key.
  const pemOf = (byte) =>
    `-----BEGIN PRIVATE KEY-----\n${Buffer.concat([Buffer.from("302e020100300506032b657004220420", "hex"), Buffer.alloc(32, byte)]).toString("base64")}\n-----END PRIVATE KEY-----\n`;
  const key = parseSigningKey(pemOf(7));
  const state = {
    rolloutId: "production@v42.p7",
    environment: "production",
    service: null,
    stable: { version: 41, digest: `sha256:${"a".repeat(64)}` },
    candidate: { version: 42, digest: `sha256:${"b".repeat(64)}` },
    phase: "progressing",
    step: 0,
    percent: 500,
    startedAt: 0,
    stepStartedAt: 0,
    reason: "started at 5%",
  };
  const three = {
    ...policy,
    gates: [
      policy.gates[0],
      { name: "latency", metric: "latency", maxIncrease: 25, minSamples: 1000 },
      { name: "http-5xx", metric: "error-rate", maxIncrease: 0.01, minSamples: 1000 },
    ],
  };
  const signals = {
    "error-rate": {
      kind: "rate",
      candidate: { events: 100, trials: 10_000 },
      control: { events: 2000, trials: 200_000 },
    },
    "http-5xx": {
      kind: "rate",
      candidate: { events: 100, trials: 10_000 },
      control: { events: 2000, trials: 200_000 },
    },
    latency: {
      kind: "mean",
      candidate: { count: 10_000, sum: 1.2e6, sumSquares: 1.5e8 },
      control: { count: 200_000, sum: 2.4e7, sumSquares: 3e9 },
    },
  };
  const rate = (fn, ms = quick ? 300 : 1000) => {
    let n = 0;
    const t0 = performance.now();
    while (performance.now() - t0 < ms) for (let i = 0; i < 100; i++, n++) fn(i);
    return Math.round((n / (performance.now() - t0)) * 1000);
  };
  const decisions = rate((i) => decide({ policy: three, state, now: 60_000 + i, signals }));
  const positions = rate((i) => cohortPosition("production@v42.p7", { instance: `pod-${i}` }));
  // A publishing key signs v41 and v42; the rollout key signs the plan naming them: the whole verification.
  const publisher = parseSigningKey(pemOf(9));
  const snapshot = (version) => {
    const config = { app: { replicas: version } };
    return createSnapshot(
      {
        environment: "production",
        version,
        previous: `sha256:${"c".repeat(64)}`,
        createdAt: new Date(),
        source: {},
        contentDigest: computeContentDigest(config, []),
        config,
        secrets: null,
      },
      [publisher],
    );
  };
  const [v41, v42] = [snapshot(41), snapshot(42)];
  const signedVersions = [v41, v42].map((s) => signedVersion(s, [publisher.publicKey]));
  const planState = {
    ...state,
    stable: { version: 41, digest: v41.digest },
    candidate: { version: 42, digest: v42.digest },
  };
  const text = serializePlan(createPlan({ state: planState, planVersion: 7, now: Date.now() }, [key]));
  const options = {
    environment: "production",
    rolloutKeys: [key.publicKey],
    signedVersions,
    previous: null,
    now: Date.now(),
  };
  if (!verifyPlan(JSON.parse(text), options).ok) throw new Error("the benchmark's plan does not verify");
  const verifies = rate(() => verifyPlan(JSON.parse(text), options));
  const fmtRate = (n) => `${n.toLocaleString("en-US")}/s`;
  table(
    "the engine (one core)",
    ["operation", "rate"],
    [
      ["decide() with 3 gates", fmtRate(decisions)],
      ["cohortPosition() (SHA-256)", fmtRate(positions)],
      ["verifyPlan() of plan bytes (parse, shape, digest, Ed25519, versions)", fmtRate(verifies)],
    ],
  );
}
console.log(`\nload average at end: ${load()}`);
