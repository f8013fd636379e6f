// @module-tag e2e
// A rollout survives its server dying at any step: `strata serve` (the built CLI) on a file store is SIGKILLed
// after each plan it decides and started again on the same port and store, while SDK clients of the fleet stay
// connected through the restarts. Each successor resumes from the stored record (the plan version and the share
// only rise), a linear rollout still completes, a rollback decided right after a restart still reaches every
// client, and no client is ever left on a version the latest plan does not give it.
import { afterEach, describe, expect, it } from "vitest";
import { StrataClient } from "../../src/client/index.js";
import { versionFor, type RolloutPlan } from "../../src/core/rollout/plan.js";
import { testBackoff, waitFor } from "../client/support.js";
import { freePort } from "../support/etcd.js";
import { tempdir } from "../support/gitdir.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import {
  EventReader,
  postReports,
  publisher,
  push,
  report,
  rolloutKey,
  rolloutRepository,
  rolloutServeArgs,
  version,
  type PlanDoc,
} from "./rollout-support.js";

const servers: ServeProcess[] = [];
const readers: EventReader[] = [];
const clients: StrataClient[] = [];
afterEach(async () => {
  for (const r of readers.splice(0)) r.close();
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) await s.stop("SIGKILL");
});

const INSTANCES = Array.from({ length: 8 }, (_, i) => `pod-${i}`);

/** One server at a time on a fixed port and one store: what a supervisor restarting `strata serve` gives. */
async function restartable(policy: string[]): Promise<{ start: () => Promise<ServeProcess>; url: string }> {
  const repository = rolloutRepository(policy);
  const store = `file:${tempdir("strata-rollout-restart-store-")}`;
  const port = await freePort();
  const start = async (): Promise<ServeProcess> => {
    const s = await spawnServe(["--listen", `127.0.0.1:${port}`, ...rolloutServeArgs(repository, store)]);
    servers.push(s);
    return s;
  };
  return { start, url: `http://127.0.0.1:${port}` };
}

async function fleet(url: string): Promise<StrataClient[]> {
  const fleetClients = INSTANCES.map(
    (instance) =>
      new StrataClient({
        endpoint: url,
        environment: "staging",
        service: "checkout",
        instance,
        trustedKeys: [publisher.key.publicKey.text],
        rolloutKeys: [rolloutKey.key.publicKey.text],
        backoff: testBackoff,
        timeoutMs: 30_000,
      }),
  );
  clients.push(...fleetClients);
  await Promise.all(fleetClients.map((c) => c.ready()));
  return fleetClients;
}

/** The first plan a new server sends on connect: the one it resumed from the store. */
async function planOf(s: ServeProcess, candidate: number): Promise<{ reader: EventReader; plan: PlanDoc }> {
  const reader = await EventReader.open(s.url);
  readers.push(reader);
  return { reader, plan: await reader.plan((p) => p.candidate.version === candidate) };
}

/** Every client runs the version the plan gives its instance, and has heard that very plan. */
async function fleetFollows(fleetClients: StrataClient[], plan: PlanDoc): Promise<void> {
  await waitFor(
    () => fleetClients.every((c) => c.rollout()?.planVersion === plan.planVersion),
    `every client on plan ${plan.planVersion}`,
    60_000,
  );
  for (const [i, c] of fleetClients.entries())
    await waitFor(
      () => c.version === versionFor(plan as unknown as RolloutPlan, { instance: INSTANCES[i]! }).ref.version,
      `${INSTANCES[i]} on the plan's version`,
      60_000,
    );
}

describe("a rollout across server restarts", { timeout: 180_000 }, () => {
  it("SIGKILLed after each step, the successor resumes where it was; the shares only rise; the rollout completes", async () => {
    const { start, url } = await restartable(["linear: { step: 25%, every: 1s }"]);
    let s = await start();
    const v1 = version(1, null);
    expect((await push(s.url, v1)).status).toBe(201);
    const fleetClients = await fleet(url);
    expect((await push(s.url, version(2, v1))).status).toBe(201);

    let { plan: last } = await planOf(s, 2);
    const shares = [last.cohort.basisPoints];
    let restarts = 0;
    while (last.phase !== "promoted") {
      await s.stop("SIGKILL");
      s = await start();
      restarts++;
      const { reader, plan: resumed } = await planOf(s, 2);
      // Resumed from the store: never an earlier plan, never a smaller share (a client once in the candidate
      // cohort stays in it), the same plan when nothing was decided meanwhile.
      expect(resumed.rollout).toBe(last.rollout);
      expect(resumed.planVersion).toBeGreaterThanOrEqual(last.planVersion);
      expect(resumed.cohort.basisPoints).toBeGreaterThanOrEqual(last.cohort.basisPoints);
      if (resumed.planVersion === last.planVersion) expect(resumed.digest).toBe(last.digest);
      // The successor goes on deciding: its next step (or the promotion) comes from its own loop.
      last = resumed.phase === "promoted" ? resumed : await reader.plan((p) => p.planVersion > resumed.planVersion);
      shares.push(resumed.cohort.basisPoints, last.cohort.basisPoints);
    }
    expect(restarts).toBeGreaterThanOrEqual(1);
    expect(shares).toEqual([...shares].sort((a, b) => a - b));
    expect(last).toMatchObject({ phase: "promoted", candidate: { version: 2 } });
    await fleetFollows(fleetClients, last);
    for (const c of fleetClients) expect(c.version).toBe(2);
  });

  it("a rollback decided by a restarted server reaches every client: none is left on the candidate", async () => {
    const { start, url } = await restartable([
      "canary: { percent: 50, bake: 1h }",
      "gates:",
      "  - { metric: error-rate, max_increase: 1%, min_samples: 1000 }",
    ]);
    let s = await start();
    const v1 = version(1, null);
    expect((await push(s.url, v1)).status).toBe(201);
    const fleetClients = await fleet(url);
    expect((await push(s.url, version(2, v1))).status).toBe(201);
    const { plan: canary } = await planOf(s, 2);
    await fleetFollows(fleetClients, canary);
    expect(fleetClients.filter((c) => c.version === 2).length).toBeGreaterThan(0);

    await s.stop("SIGKILL");
    s = await start();
    const { reader, plan: resumed } = await planOf(s, 2);
    expect(resumed.digest).toBe(canary.digest);
    expect(
      (await postReports(s.url, [report("canary-x", 2, 20_000, 2_000), report("stable-x", 1, 100_000, 1_000)])).status,
    ).toBe(202);
    const back = await reader.plan((p) => p.phase === "rolled-back");
    expect(back).toMatchObject({ stable: { version: 1 }, candidate: { version: 2 } });
    expect(back.planVersion).toBe(canary.planVersion + 1);
    await fleetFollows(fleetClients, back);
    for (const c of fleetClients) expect(c.version).toBe(1);
  });
});
