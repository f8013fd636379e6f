// @module-tag e2e
// The SDK in a rollout run by the real `strata serve` (the built CLI, --repo with strata.yaml `rollouts:` and
// --rollout-key): each instance runs its cohort's version, the stable cohort stays on the stable version
// while the head is the candidate, an instance restarted keeps its cohort, an abort moves the candidate
// cohort back with no snapshot fetched (counted at the server, strata_http_requests_total), an offline
// restart keeps the cohort's version from the cache files, and health reports reach the rollout's totals.
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StrataClient, type ChangeEvent, type ClientOptions } from "../../src/client/index.js";
import type { RolloutStatusDocument, StatusDocument } from "../../src/core/protocol/index.js";
import { versionFor, type RolloutPlan } from "../../src/core/rollout/plan.js";
import { tempdir } from "../support/gitdir.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import {
  publisher,
  push,
  rolloutKey,
  rolloutRepository,
  rolloutServeArgs,
  version,
} from "../server/rollout-support.js";
import { testBackoff, waitFor, waitForAsync } from "./support.js";

const servers: ServeProcess[] = [];
const clients: StrataClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const s of servers.splice(0)) await s.stop("SIGKILL");
});

/** A 50% canary that bakes for an hour: it holds until the test acts. */
const HALF_CANARY = ["canary: { percent: 50, bake: 1h }"];

async function rolloutServer(): Promise<ServeProcess> {
  const s = await spawnServe(rolloutServeArgs(rolloutRepository(HALF_CANARY)));
  servers.push(s);
  return s;
}

async function client(
  url: string,
  options: Partial<ClientOptions> & { instance: string },
): Promise<{ c: StrataClient; changes: ChangeEvent[] }> {
  const c = new StrataClient({
    endpoint: url,
    environment: "staging",
    service: "checkout",
    trustedKeys: [publisher.key.publicKey.text],
    rolloutKeys: [rolloutKey.key.publicKey.text],
    backoff: testBackoff,
    timeoutMs: 30_000,
    ...options,
  });
  clients.push(c);
  const changes: ChangeEvent[] = [];
  c.on("change", (e) => changes.push(e));
  await c.ready();
  return { c, changes };
}

async function currentPlan(url: string): Promise<{ text: string; plan: RolloutPlan }> {
  const res = await fetch(`${url}/v1/environments/staging/plan`);
  expect(res.status).toBe(200);
  const text = await res.text();
  return { text, plan: JSON.parse(text) as RolloutPlan };
}

/** Snapshot bodies the server answered (GET snapshot and snapshots/{v} with 200), from its own metrics. */
async function snapshotBodiesServed(url: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^strata_http_requests_total\{([^}]*)\} (\d+)$/gm)) {
    const labels = m[1]!;
    if (labels.includes('method="GET"') && /route="(snapshot|version)"/.test(labels) && labels.includes('status="200"'))
      n += Number(m[2]);
  }
  return n;
}

describe("the SDK in a rollout run by strata serve", () => {
  it("cohorts from the signed plan; the stable cohort stays on the stable version; a restart keeps the cohort; an abort moves the candidates back with no fetch", async () => {
    const s = await rolloutServer();
    const v1 = version(1, null);
    expect((await push(s.url, v1)).status).toBe(201);
    const ids = Array.from({ length: 10 }, (_, i) => `pod-${i}`);
    const fleet = await Promise.all(ids.map((instance) => client(s.url, { instance })));
    for (const { c } of fleet) expect(c.version).toBe(1);

    const v2 = version(2, v1, { config: { app: { name: "demo", release: 2, mode: "new" } } });
    expect((await push(s.url, v2)).status).toBe(201);
    const { text, plan } = await currentPlan(s.url);
    expect(plan).toMatchObject({ phase: "progressing", stable: { version: 1 }, candidate: { version: 2 } });
    await waitFor(
      () => fleet.every(({ c }) => c.rollout()?.planVersion === plan.planVersion),
      "every client following the plan",
    );
    const roles = ids.map((instance) => versionFor(plan, { instance }).role);
    // The server calibrated the boundary on the fleet it knows: half of the ten on each side.
    expect(roles.filter((r) => r === "candidate")).toHaveLength(5);
    fleet.forEach(({ c }, i) => {
      const role = roles[i]!;
      expect(c.rollout()).toEqual({
        rollout: plan.rollout,
        phase: "progressing",
        planVersion: plan.planVersion,
        stable: 1,
        candidate: 2,
        running: role === "candidate" ? 2 : 1,
        cohort: role,
      });
      expect(c.version).toBe(role === "candidate" ? 2 : 1);
      expect(c.get("app.release")).toBe(role === "candidate" ? 2 : 1);
    });
    // The stable cohort never ran the candidate, not even for a moment.
    fleet.forEach(({ changes }, i) => {
      if (roles[i] === "stable") expect(changes).toEqual([]);
    });

    // An instance restarted (a new client, same id) lands in its cohort again, from ready() on.
    const restartedIndex = roles.indexOf("candidate");
    await fleet[restartedIndex]!.c.close();
    const restarted = await client(s.url, { instance: ids[restartedIndex]! });
    expect(restarted.c.version).toBe(2);
    expect(restarted.c.rollout()).toMatchObject({ cohort: "candidate", running: 2 });
    fleet[restartedIndex] = restarted;

    // The decision: abort (what a breach does too). Every client goes to v1 from memory.
    const served = await snapshotBodiesServed(s.url);
    const abort = await fetch(`${s.url}/v1/environments/staging/rollout/abort`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ reason: "test" }),
    });
    expect(abort.status, await abort.clone().text()).toBe(200);
    await waitFor(() => fleet.every(({ c }) => c.rollout()?.phase === "aborted"), "every client hearing the abort");
    for (const { c } of fleet) {
      expect(c.version).toBe(1);
      expect(c.get("app.release")).toBe(1);
      expect(c.rollout()).toMatchObject({ running: 1, cohort: "stable", stable: 1, candidate: 2 });
    }
    fleet.forEach(({ changes }, i) => {
      if (roles[i] === "candidate" && i !== restartedIndex)
        expect(changes.at(-1)).toMatchObject({ version: 1, previousVersion: 2 });
    });
    expect(restarted.changes.at(-1)?.changes.map((ch) => ch.key)).toEqual(["app.mode", "app.release"]);
    expect(await snapshotBodiesServed(s.url)).toBe(served);
    // The plan the clients follow is the one the server serves, and it verifies on its own.
    const after = await currentPlan(s.url);
    expect(fleet[0]!.c.rollout()?.planVersion).toBe(after.plan.planVersion);
    expect(after.text).not.toBe(text);
  });

  it("an offline restart keeps the cohort's version: the cache file and the plan cache beside it", async () => {
    const s = await rolloutServer();
    const v1 = version(1, null);
    expect((await push(s.url, v1)).status).toBe(201);
    const dir = tempdir("strata-sdk-rollout-cache-");
    const ids = Array.from({ length: 6 }, (_, i) => `node-${i}`);
    const fleet = await Promise.all(
      ids.map((instance) => client(s.url, { instance, cacheFile: join(dir, `${instance}.json`) })),
    );
    expect((await push(s.url, version(2, v1))).status).toBe(201);
    const { plan } = await currentPlan(s.url);
    await waitFor(() => fleet.every(({ c }) => c.rollout()?.planVersion === plan.planVersion), "the plan");
    const running = fleet.map(({ c }) => c.version);
    expect(new Set(running)).toEqual(new Set([1, 2]));
    for (const { c } of fleet) await c.close();
    clients.splice(0);
    const url = s.url;
    await s.stop("SIGKILL");

    const again = await Promise.all(
      ids.map((instance) => client(url, { instance, cacheFile: join(dir, `${instance}.json`), timeoutMs: 300 })),
    );
    again.forEach(({ c }, i) => {
      expect(c.source).toBe("cache");
      expect(c.version).toBe(running[i]);
      expect(c.rollout()).toMatchObject({ planVersion: plan.planVersion, running: running[i] });
    });
  });

  it("health reports reach the rollout's cohort totals", async () => {
    const s = await rolloutServer();
    const v1 = version(1, null);
    expect((await push(s.url, v1)).status).toBe(201);
    const ids = Array.from({ length: 4 }, (_, i) => `rep-${i}`);
    const fleet = await Promise.all(ids.map((instance) => client(s.url, { instance, reportIntervalMs: 200 })));
    expect((await push(s.url, version(2, v1))).status).toBe(201);
    const { plan } = await currentPlan(s.url);
    await waitFor(() => fleet.every(({ c }) => c.rollout()?.planVersion === plan.planVersion), "the plan");
    for (const { c } of fleet) c.report({ requests: 10, errors: 1, latencyMs: [5, 6, 7] });
    await waitFor(() => fleet.every(({ c }) => c.reportStats().sent >= 1), "every client's batch accepted");
    for (const { c } of fleet) expect(c.reportStats()).toMatchObject({ dropped: 0, refused: 0 });
    const status = (await (await fetch(`${s.url}/v1/environments/staging/rollout`)).json()) as RolloutStatusDocument;
    const onCandidate = fleet.filter(({ c }) => c.version === 2).length;
    expect(status.cohorts.candidate).toMatchObject({ version: 2, instances: onCandidate, requests: 10 * onCandidate });
    expect(status.cohorts.stable).toMatchObject({ version: 1, instances: 4 - onCandidate });
  });
  it("a fleet serving and reporting through the push: no stable-cohort client ever runs the candidate, and the status counts only the candidate cohort on it", async () => {
    const s = await rolloutServer();
    const v1 = version(1, null);
    expect((await push(s.url, v1)).status).toBe(201);
    // As the README's fleet: ten instances started one after the other, each serving and reporting all along.
    const fleet: { c: StrataClient; seen: number[] }[] = [];
    for (let i = 0; i < 10; i++) {
      const { c } = await client(s.url, { instance: `checkout-${i}`, reportIntervalMs: 200 });
      const seen = [c.version];
      c.on("change", () => seen.push(c.version));
      fleet.push({ c, seen });
    }
    const serving = setInterval(() => {
      for (const { c } of fleet) c.report({ requests: 10, errors: 0 });
    }, 20);
    try {
      expect((await push(s.url, version(2, v1))).status).toBe(201);
      const { plan } = await currentPlan(s.url);
      await waitFor(
        () => fleet.every(({ c }) => c.rollout()?.planVersion === plan.planVersion),
        "every client following the plan",
      );
      // Two batches from every client after it followed the plan: what it ran then has reached the endpoint.
      const sentThen = fleet.map(({ c }) => c.reportStats().sent);
      await waitFor(
        () => fleet.every(({ c }, i) => c.reportStats().sent >= sentThen[i]! + 2),
        "two more batches from every client",
      );
      const cohorts = fleet.map(({ c }) => c.rollout()!.cohort);
      expect(cohorts.filter((r) => r === "candidate")).toHaveLength(5);
      fleet.forEach(({ c, seen }, i) => {
        if (cohorts[i] === "stable") expect(seen, `checkout-${i} (stable cohort)`).toEqual([1]);
        else expect(seen, `checkout-${i} (candidate cohort)`).toEqual([1, 2]);
        expect(c.version).toBe(cohorts[i] === "candidate" ? 2 : 1);
      });
      // A client tells the endpoint which version it runs within a spread of its switch (the fleet records):
      // every record says what its client runs before the status is read.
      const runs = new Map(fleet.map(({ c }, i) => [`checkout-${i}`, c.version]));
      await waitForAsync(async () => {
        const records = ((await (await fetch(`${s.url}/v1/status`)).json()) as StatusDocument).clients;
        return [...runs].every(([instance, v]) => records.some((r) => r.instance === instance && r.version === v));
      }, "every client's version in the fleet records");
      const status = (await (await fetch(`${s.url}/v1/environments/staging/rollout`)).json()) as RolloutStatusDocument;
      expect(status.cohorts.candidate).toMatchObject({ version: 2, instances: 5 });
      expect(status.clients).toEqual({ candidate: 5, stable: 5, other: 0 });
    } finally {
      clearInterval(serving);
    }
  });
});
