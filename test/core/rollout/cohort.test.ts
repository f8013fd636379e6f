import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  calibratedBoundary,
  cohortPosition,
  inRange,
  POSITIONS,
  shareInRange,
  uniformBoundary,
} from "../../../src/core/rollout/index.js";

// Deterministic fleets: pod-like names, as Kubernetes would give them.
const fleet = (n: number, prefix = "checkout-7f9c4") =>
  Array.from({ length: n }, (_, i) => `${prefix}-${i.toString(36).padStart(5, "0")}`);
const positionsOf = (rollout: string, ids: string[]) => ids.map((instance) => cohortPosition(rollout, { instance }));

describe("cohort positions", () => {
  // Fixed vectors: any process, any language, any restart computes these (sha256 over the canonical JSON
  // array, first four bytes big-endian). A change here strands running clients in the wrong cohort.
  it.each([
    ["production@v42.p7", { instance: "checkout-7f9c4-abcde" }, 910972711],
    ["production@v42.p7", { instance: "checkout-7f9c4-fghij" }, 1567691567],
    ["production@v43.p9", { instance: "checkout-7f9c4-abcde" }, 3878059062],
    ["production@v42.p7", { entity: "user-1001" }, 2562283342],
    ["staging/checkout@v3.p1", { instance: "host-a" }, 819378118],
    ["production@v42.p7", { instance: "ünïcode-ß" }, 1150738157],
  ] as const)("%s %j -> %d", (rollout, subject, position) => {
    expect(cohortPosition(rollout, subject)).toBe(position);
    const [kind, id] = "instance" in subject ? ["instance", subject.instance] : ["entity", subject.entity];
    const digest = createHash("sha256")
      .update(JSON.stringify(["strata.cohort.v1", rollout, kind, id]))
      .digest();
    expect(digest.readUInt32BE(0)).toBe(position);
  });

  it("an entity's position does not depend on the instance that asks; an instance's and an entity's of the same text differ", () => {
    expect(cohortPosition("r", { entity: "user-1" })).toBe(cohortPosition("r", { entity: "user-1" }));
    expect(cohortPosition("r", { entity: "x" })).not.toBe(cohortPosition("r", { instance: "x" }));
  });
});

describe("shares at 10,000 instance ids", () => {
  const ids = fleet(10_000);
  const rollout = "production@v42.p7";
  const positions = positionsOf(rollout, ids);
  const targets = [
    1, 10, 50, 100, 250, 500, 1000, 1500, 2000, 2500, 3333, 4000, 5000, 6000, 6667, 7500, 8000, 9000, 9500, 9900, 9999,
  ];

  it("calibrated to the known fleet, the share is the target to within ±0.5 points (in fact one client) for every target", () => {
    for (const bp of targets) {
      const share = shareInRange(positions, [0, calibratedBoundary(positions, bp)]);
      expect(Math.abs(share * 100 - bp / 100), `target ${bp / 100}%`).toBeLessThanOrEqual(0.5);
      expect(Math.abs(share * 10_000 - bp)).toBeLessThanOrEqual(1);
    }
  });

  it("uncalibrated (a plain hash), the share is a binomial draw: within four standard deviations of every target", () => {
    for (const bp of targets) {
      const p = bp / 10_000;
      const sd = Math.sqrt((p * (1 - p)) / ids.length);
      const share = shareInRange(positions, [0, uniformBoundary(bp)]);
      expect(Math.abs(share - p), `target ${bp / 100}%`).toBeLessThanOrEqual(4 * sd + 1e-12);
    }
  });

  it("positions are spread evenly: each of 100 equal slices holds about 1% (chi-square below its 99.9% quantile)", () => {
    const counts = new Array<number>(100).fill(0);
    for (const p of positions) counts[Math.floor((p / POSITIONS) * 100)]!++;
    const chi2 = counts.reduce((s, c) => s + (c - 100) ** 2 / 100, 0);
    expect(chi2).toBeLessThan(148.2); // χ²(99) at 0.999
  });
});

describe("sticky and monotone", () => {
  const rollout = "production@v42.p7";
  const ids = fleet(2000);
  const positions = positionsOf(rollout, ids);
  const steps = [100, 200, 400, 800, 1600, 3200, 6400, 10_000];

  it("raising the share never moves a client of the cohort back, calibrated or not", () => {
    let previous = new Set<string>();
    let boundary = 0;
    for (const bp of steps) {
      boundary = calibratedBoundary(positions, bp, boundary);
      const cohort = new Set(ids.filter((_, i) => inRange(positions[i]!, [0, boundary])));
      for (const id of previous) expect(cohort.has(id)).toBe(true);
      expect(cohort.size).toBe(Math.round((bp * ids.length) / 10_000));
      previous = cohort;
    }
    for (let i = 1; i < steps.length; i++)
      expect(uniformBoundary(steps[i]!)).toBeGreaterThan(uniformBoundary(steps[i - 1]!));
    expect(uniformBoundary(10_000)).toBe(POSITIONS);
    expect(uniformBoundary(0)).toBe(0);
  });

  it("when the fleet changes between steps the boundary still never moves down", () => {
    const first = calibratedBoundary(positions, 1000);
    // Half the fleet replaced by new pods: the quantile of the new fleet may lie lower.
    const replaced = [...positions.slice(0, 1000), ...positionsOf(rollout, fleet(1000, "checkout-99aa1"))];
    for (const bp of [1000, 1100, 2000]) expect(calibratedBoundary(replaced, bp, first)).toBeGreaterThanOrEqual(first);
  });

  it("a restarted client (same instance id) keeps its position; another rollout reshuffles", () => {
    const again = positionsOf(rollout, ids);
    expect(again).toEqual(positions);
    const other = positionsOf("production@v43.p9", ids);
    const inFirst = new Set(ids.filter((_, i) => positions[i]! < uniformBoundary(1000)));
    const inOther = ids.filter((_, i) => other[i]! < uniformBoundary(1000));
    // About 10% of a random 10% should overlap, not all of it.
    expect(inOther.filter((id) => inFirst.has(id)).length).toBeLessThan(inOther.length / 2);
  });

  it("clients the server has not seen split like the known ones", () => {
    const boundary = calibratedBoundary(positions, 2500);
    const newcomers = positionsOf(rollout, fleet(10_000, "checkout-new"));
    const share = shareInRange(newcomers, [0, boundary]);
    expect(Math.abs(share - 0.25)).toBeLessThan(
      4 * Math.sqrt((0.25 * 0.75) / 2000) + 4 * Math.sqrt((0.25 * 0.75) / 10_000),
    );
  });

  it("edge cases: no known fleet, 0%, 100%, a single client", () => {
    expect(calibratedBoundary([], 500)).toBe(uniformBoundary(500));
    expect(calibratedBoundary(positions, 0)).toBe(0);
    expect(calibratedBoundary(positions, 10_000)).toBe(POSITIONS);
    expect(calibratedBoundary([123], 5000)).toBe(124);
    expect(calibratedBoundary([123], 4000)).toBe(61);
    expect(calibratedBoundary([5, 5, 9], 3333)).toBe(6);
  });
});
