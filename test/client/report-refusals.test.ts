// @module-tag e2e
// A client's own refusals and staleness in its health reports, with the real `strata serve --rollout-key` and
// the built CLI: clients that cannot verify the candidate (they trust a key that signed the stable version
// and not the candidate) report what they refused; the rollout status counts it per cohort and version and
// `strata rollout status` says that the candidate-cohort ones never ran the candidate. A client running an
// expired snapshot says so in its batches.
import { afterEach, describe, expect, it } from "vitest";
import { StrataClient, type ClientOptions } from "../../src/client/index.js";
import type { HealthReportBatch, RolloutStatusDocument } from "../../src/core/protocol/index.js";
import { cohortPosition } from "../../src/core/rollout/cohort.js";
import { rolloutIdFor, versionFor, type RolloutPlan } from "../../src/core/rollout/plan.js";
import { parseHealthReport } from "../../src/core/rollout/reports.js";
import { createSnapshot, computeContentDigest } from "../../src/core/snapshot/index.js";
import { strata } from "../support/cli.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import { newKey } from "../support/snapshots.js";
import {
  publisher,
  push,
  rolloutKey,
  rolloutRepository,
  rolloutServeArgs,
  version,
} from "../server/rollout-support.js";
import { startEndpoint, testBackoff, waitFor, type Endpoint } from "./support.js";

const servers: ServeProcess[] = [];
const endpoints: Endpoint[] = [];
const clients: StrataClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) await s.stop("SIGKILL");
  for (const e of endpoints.splice(0)) await e.stop("SIGKILL");
});

/** A second publishing key: it signs the stable version beside the publisher, never the candidate. */
const other = newKey();

async function rolloutServer(): Promise<ServeProcess> {
  const s = await spawnServe(rolloutServeArgs(rolloutRepository(["canary: { percent: 50, bake: 1h }"])));
  servers.push(s);
  return s;
}

async function client(url: string, options: Partial<ClientOptions> & { instance: string }): Promise<StrataClient> {
  const c = new StrataClient({
    endpoint: url,
    environment: "staging",
    service: "checkout",
    trustedKeys: [publisher.key.publicKey.text],
    rolloutKeys: [rolloutKey.key.publicKey.text],
    backoff: testBackoff,
    timeoutMs: 30_000,
    reportIntervalMs: 200,
    ...options,
  });
  clients.push(c);
  await c.ready();
  return c;
}

/** Instance names ordered by their cohort position in rollout `rolloutId` (low: candidate first). */
function byPosition(rolloutId: string, names: string[]): string[] {
  return [...names].sort(
    (a, b) => cohortPosition(rolloutId, { instance: a }) - cohortPosition(rolloutId, { instance: b }),
  );
}

describe("health reports carry the client's own refusals and staleness", () => {
  it("clients that refuse the candidate report it; the status counts it per cohort and version, and names the candidate-cohort ones that never ran it", async () => {
    const s = await rolloutServer();
    // v1 signed by both keys, v2 (the candidate) by the publisher alone: a client trusting only `other`
    // runs v1 and refuses v2 (invalid-signature), then the plan naming it (unsigned-version).
    const v1 = createSnapshot(
      {
        environment: "staging",
        version: 1,
        previous: null,
        createdAt: new Date(),
        source: {},
        contentDigest: computeContentDigest({ app: { release: 1 } }, []),
        config: { app: { release: 1 } },
        secrets: null,
      },
      [publisher.key, other.key],
    );
    expect((await push(s.url, v1)).status).toBe(201);
    // The rollout this push starts is the chain's first: its id is known, and so is each name's position.
    // Two refusers far inside the candidate cohort, one far inside the stable cohort, whatever the boundary.
    const ordered = byPosition(
      rolloutIdFor("staging", null, 2, 1),
      Array.from({ length: 40 }, (_, i) => `refuser-${i}`),
    );
    const refusers = [ordered[0]!, ordered[1]!, ordered.at(-1)!];
    const fleet: { instance: string; c: StrataClient; refuses: boolean; errors: string[] }[] = [];
    for (const instance of refusers) {
      const c = await client(s.url, { instance, trustedKeys: [other.key.publicKey.text] });
      const errors: string[] = [];
      c.on("error", (e) => errors.push(e.code));
      fleet.push({ instance, c, refuses: true, errors });
    }
    for (const instance of ["plain-0", "plain-1"])
      fleet.push({ instance, c: await client(s.url, { instance }), refuses: false, errors: [] });
    const serving = setInterval(() => {
      for (const { c } of fleet) c.report({ requests: 5 });
    }, 20);
    try {
      expect((await push(s.url, version(2, v1))).status).toBe(201);
      const plan = JSON.parse(await (await fetch(`${s.url}/v1/environments/staging/plan`)).text()) as RolloutPlan;
      expect(plan.rollout).toBe(rolloutIdFor("staging", null, 2, 1));
      const cohortOf = (instance: string) => versionFor(plan, { instance }).role;
      expect(refusers.map(cohortOf)).toEqual(["candidate", "candidate", "stable"]);
      expect(plan.cohort.instances[1]).toBeGreaterThan(cohortPosition(plan.rollout, { instance: refusers[1]! }));
      expect(cohortPosition(plan.rollout, { instance: refusers[2]! })).toBeGreaterThan(plan.cohort.instances[1]);
      await waitFor(
        () =>
          fleet.every(({ c, refuses }) =>
            refuses
              ? c.lastRefusedPlan?.planVersion === plan.planVersion
              : c.rollout()?.planVersion === plan.planVersion,
          ),
        "the refusers refusing the plan, the others following it",
      ).catch((e: Error) => {
        throw new Error(
          `${e.message}: ${JSON.stringify(fleet.map((f) => [f.instance, f.c.version, f.c.lastRefusedPlan, f.c.lastRejected, f.c.rollout(), f.errors]))}`,
        );
      });
      for (const { c, refuses } of fleet) if (refuses) expect(c.version).toBe(1);
      // Two more batches from every client: what each refused has gone out.
      const sentThen = fleet.map(({ c }) => c.reportStats().sent);
      await waitFor(
        () => fleet.every(({ c }, i) => c.reportStats().sent >= sentThen[i]! + 2),
        "two more batches from every client",
      );
      for (const { c } of fleet) expect(c.reportStats()).toMatchObject({ refused: 0 });
      const status = (await (await fetch(`${s.url}/v1/environments/staging/rollout`)).json()) as RolloutStatusDocument;
      const row = (cohort: string, v: number) => status.refusals.find((r) => r.cohort === cohort && r.version === v);
      // What the refusers counted themselves, by code, is what the status sums.
      const counted = (instances: string[], code: string) =>
        fleet
          .filter((f) => f.refuses && instances.includes(f.instance))
          .reduce((n, f) => n + f.errors.filter((e) => e === code).length, 0);
      const candidateRefusers = refusers.slice(0, 2);
      expect(row("candidate", 1)).toMatchObject({
        cohort: "candidate",
        version: 1,
        rejecting: 2,
        rejected: { snapshot: { "invalid-signature": counted(candidateRefusers, "invalid-signature") } },
        stale: { expired: 0, disconnected: 0 },
      });
      expect(row("candidate", 1)!.rejected.plan["unsigned-version"]).toBeGreaterThanOrEqual(2);
      expect(row("stable", 1)).toMatchObject({ rejecting: 1 });
      expect(row("stable", 1)!.rejected.snapshot["invalid-signature"]).toBe(
        counted([refusers[2]!], "invalid-signature"),
      );
      // The clients that run the candidate refused nothing.
      expect(row("candidate", 2)?.rejecting ?? 0).toBe(0);

      const cli = await strata(["rollout", "status", "--env", "staging", "--endpoint", s.url]);
      expect(cli.exitCode, cli.stderr).toBe(0);
      expect(cli.stdout).toMatch(
        /candidate cohort on v1: of \d+ reporting instances, 2 refused \(snapshots: invalid-signature \d+; plans: unsigned-version \d+\): they refused the candidate or its plan, and never ran v2/,
      );
      expect(cli.stdout).toMatch(/stable cohort on v1: of \d+ reporting instances?, 1 refused \(/);
      const json = await strata(["rollout", "status", "--env", "staging", "--endpoint", s.url, "--format", "json"]);
      expect((JSON.parse(json.stdout) as RolloutStatusDocument).refusals).toEqual(status.refusals);
    } finally {
      clearInterval(serving);
    }
  });

  it("a client running an expired snapshot says so (stale: expired) in each batch, with its counts", async () => {
    const ep = await startEndpoint();
    endpoints.push(ep);
    const hourAgo = new Date(Date.now() - 3_600_000);
    await ep.publish(
      { app: { name: "demo" } },
      { createdAt: new Date(hourAgo.getTime() - 60_000), expiresAt: hourAgo },
    );
    const batches: HealthReportBatch[] = [];
    // The real fetch, recording what the client posts to the reports route.
    const recording: typeof fetch = async (input, init) => {
      if (String(input).endsWith("/reports") && typeof init?.body === "string")
        batches.push(JSON.parse(init.body) as HealthReportBatch);
      return fetch(input, init);
    };
    const c = new StrataClient({
      endpoint: ep.url,
      environment: "staging",
      service: "checkout",
      instance: "stale-0",
      trustedKeys: [ep.publicKey],
      allowExpired: true,
      backoff: testBackoff,
      reportIntervalMs: 100,
      fetch: recording,
    });
    clients.push(c);
    await c.ready();
    expect(c.isStale()).toBe(true);
    c.report({ requests: 3, errors: 1 });
    await waitFor(() => c.reportStats().sent + c.reportStats().dropped >= 1, "a batch");
    const [report] = batches[0]!.reports;
    expect(report).toMatchObject({ instance: "stale-0", version: 1, requests: 3, errors: 1, stale: "expired" });
    expect(report!.rejected).toBeUndefined();
    // What the endpoint checks: the report as sent is well-formed.
    expect(parseHealthReport(report).ok).toBe(true);
  });
});
