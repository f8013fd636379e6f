// The clients' own refusals and staleness in health reports (`POST {chain}/reports`), against a real server
// running a rollout: each malformed part refused by name, the rest summed per instance and version, the
// latest staleness kept, and the status document's rows per cohort (by the plan) and version.
import { afterEach, describe, expect, it } from "vitest";
import type { RolloutStatusDocument } from "../../src/core/protocol/index.js";
import { versionFor, type RolloutPlan } from "../../src/core/rollout/plan.js";
import { postReports, report, stableAndCandidate, startRolloutServer, type RolloutServer } from "./rollout-support.js";

const servers: RolloutServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

/** Instance names in each cohort of `plan`. */
function cohorts(plan: RolloutPlan): { candidate: string[]; stable: string[] } {
  const out = { candidate: [] as string[], stable: [] as string[] };
  for (let i = 0; out.candidate.length < 2 || out.stable.length < 2; i++) {
    const id = `pod-${i}`;
    out[versionFor(plan, { instance: id }).role].push(id);
  }
  return out;
}

describe("reports carry the clients' refusals and staleness", () => {
  it("malformed refusals or staleness are refused by name; the rest is summed per cohort and version, the latest staleness kept", async () => {
    const s = await startRolloutServer({ policy: ["canary: { percent: 50, bake: 1h }"] });
    servers.push(s);
    await stableAndCandidate(s.url);
    const plan = JSON.parse(await (await fetch(`${s.url}/v1/environments/staging/plan`)).text()) as RolloutPlan;
    const { candidate, stable } = cohorts(plan);
    const [c0, c1] = candidate as [string, string];
    const [s0] = stable as [string];

    const bad = [
      { ...report(c0, 1, 1, 0), rejected: { snapshot: { "no-such-code": 1 } } },
      { ...report(c0, 1, 1, 0), rejected: { snapshot: { expired: 0 } } },
      { ...report(c0, 1, 1, 0), rejected: { plan: { "unsigned-version": 10_001 } } },
      { ...report(c0, 1, 1, 0), rejected: { plan: { "unsigned-version": 1.5 } } },
      { ...report(c0, 1, 1, 0), rejected: [] },
      { ...report(c0, 1, 1, 0), rejected: { secrets: { expired: 1 } } },
      { ...report(c0, 1, 1, 0), rejected: { plan: { "invalid-signature": 1 } } },
      { ...report(c0, 1, 1, 0), stale: "yes" },
      { ...report(c0, 1, 1, 0), stale: true },
    ];
    const refused = await postReports(s.url, bad);
    expect(refused.status).toBe(202);
    expect(await refused.json()).toEqual({
      accepted: 0,
      refused: [
        {
          index: 0,
          problem: expect.stringMatching(
            /^rejected\.snapshot: unknown code "no-such-code" \(one of invalid-snapshot, /,
          ),
        },
        { index: 1, problem: "rejected.snapshot.expired must be a whole number from 1 to 10000" },
        { index: 2, problem: "rejected.plan.unsigned-version must be a whole number from 1 to 10000" },
        { index: 3, problem: "rejected.plan.unsigned-version must be a whole number from 1 to 10000" },
        { index: 4, problem: "rejected must be { snapshot?: { code: count }, plan?: { refusal: count } }" },
        {
          index: 5,
          problem:
            'rejected must be { snapshot?: { code: count }, plan?: { refusal: count } }: unknown field "secrets"',
        },
        // A plan refusal is not a snapshot rejection code: each kind has its own names.
        {
          index: 6,
          problem: expect.stringMatching(/^rejected\.plan: unknown code "invalid-signature" \(one of malformed, /),
        },
        { index: 7, problem: 'stale must be "expired" or "disconnected"' },
        { index: 8, problem: 'stale must be "expired" or "disconnected"' },
      ],
    });

    const good = [
      // A candidate-cohort client still on v1: it refused the candidate and then the plan, twice over.
      { ...report(c0, 1, 10, 0), rejected: { snapshot: { "invalid-signature": 2 }, plan: { "unsigned-version": 1 } } },
      { ...report(c0, 1, 10, 0), rejected: { snapshot: { "invalid-signature": 1 } } },
      // A candidate on the candidate, cut off from the endpoint.
      { ...report(c1, 2, 10, 0), stale: "disconnected" },
      // A stable client that was stale and is no longer: the latest report says so.
      { ...report(s0, 1, 10, 0), stale: "expired" },
      { ...report(s0, 1, 10, 0) },
      // Nothing served, only refusals to tell: still counted.
      { instance: s0, version: 1, requests: 0, errors: 0, intervalMs: 1000, rejected: { plan: { expired: 1 } } },
    ];
    const accepted = await postReports(s.url, good);
    expect(await accepted.json()).toEqual({ accepted: good.length, refused: [] });

    const status = (await (await fetch(`${s.url}/v1/environments/staging/rollout`)).json()) as RolloutStatusDocument;
    const none = { expired: 0, disconnected: 0 };
    expect(status.refusals).toEqual([
      {
        cohort: "candidate",
        version: 2,
        instances: 1,
        rejecting: 0,
        rejected: { snapshot: {}, plan: {} },
        stale: { expired: 0, disconnected: 1 },
      },
      {
        cohort: "candidate",
        version: 1,
        instances: 1,
        rejecting: 1,
        rejected: { snapshot: { "invalid-signature": 3 }, plan: { "unsigned-version": 1 } },
        stale: none,
      },
      {
        cohort: "stable",
        version: 1,
        instances: 1,
        rejecting: 1,
        rejected: { snapshot: {}, plan: { expired: 1 } },
        stale: none,
      },
    ]);
    // Refusals are shown, never a gate's signal: the rollout holds on its bake as before.
    expect(status.state).toMatchObject({ phase: "progressing" });
  });
});
