// @module-tag e2e
// The SDK following rollout plans served by a local endpoint that answers what each test makes it answer:
// plans the real `strata serve` would never send (naming an unsigned version, another environment's, bytes
// altered, signed by the wrong key, going back) are refused and change nothing; a good plan puts each
// instance on its cohort's version, a rollback plan moves the candidate cohort back without a fetch, and the
// plan cache keeps the cohort's version through an offline restart. Real signatures, keys and files
// throughout; the real server's plans are tested in rollout.test.ts.
import type { ServerResponse } from "node:http";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { StrataClient, StrataClientError, type ChangeEvent, type ClientOptions } from "../../src/client/index.js";
import { formatSnapshotEvent } from "../../src/core/protocol/events.js";
import { cohortPosition, POSITIONS } from "../../src/core/rollout/cohort.js";
import {
  serializePlan,
  signPlan,
  versionFor,
  type RolloutPlan,
  type UnsignedPlan,
} from "../../src/core/rollout/plan.js";
import { serializeSnapshot, type Snapshot } from "../../src/core/snapshot/index.js";
import { tempdir } from "../support/gitdir.js";
import { newKey } from "../support/snapshots.js";
import { openEventStream, sendJson, sendText, startHostileEndpoint, type HostileEndpoint } from "./hostile-endpoint.js";
import { signSnapshot, testBackoff, waitFor } from "./support.js";

const clients: StrataClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
});

const publisher = newKey().key;
const rolloutKey = newKey().key;
const HALF = POSITIONS / 2;
const ROLLOUT = "staging@v2.p1";

const config = (n: number): Record<string, Record<string, unknown>> => ({
  app: { name: "demo", release: n },
  limits: { rps: 100 * n },
});

function chainOf(environment: string, count: number, key = publisher): Snapshot[] {
  const out: Snapshot[] = [];
  for (let v = 1; v <= count; v++)
    out.push(
      signSnapshot(key, { environment, version: v, previous: out.at(-1)?.digest ?? null, config: config(v) as never }),
    );
  return out;
}

function plan(over: Partial<UnsignedPlan> & { stable: Snapshot; candidate: Snapshot }, key = rolloutKey): RolloutPlan {
  const { stable, candidate, ...rest } = over;
  const now = Date.now();
  return signPlan(
    {
      kind: "strata.rollout-plan",
      apiVersion: 1,
      environment: "staging",
      service: null,
      rollout: ROLLOUT,
      planVersion: 1,
      phase: "progressing",
      stable: { version: stable.version, digest: stable.digest },
      candidate: { version: candidate.version, digest: candidate.digest },
      cohort: { basisPoints: 5000, instances: [0, HALF], entities: [0, HALF] },
      createdAt: new Date(now - 1000).toISOString(),
      expiresAt: new Date(now + 3_600_000).toISOString(),
      reason: "canary 50%",
      ...rest,
    },
    [key],
  );
}

const rolledBack = (p: RolloutPlan, stable: Snapshot, candidate: Snapshot): RolloutPlan =>
  plan({
    stable,
    candidate,
    planVersion: p.planVersion + 1,
    phase: "rolled-back",
    cohort: { basisPoints: 0, instances: [0, 0], entities: [0, 0] },
    reason: "error-rate breach",
  });

/** Instance ids in the candidate (position < HALF) and the stable (≥ HALF) half of ROLLOUT. */
function instances(): { candidate: string; stable: string } {
  let candidate: string | null = null;
  let stable: string | null = null;
  for (let i = 0; candidate === null || stable === null; i++) {
    const id = `pod-${i}`;
    if (cohortPosition(ROLLOUT, { instance: id }) < HALF) candidate ??= id;
    else stable ??= id;
  }
  return { candidate, stable };
}

/** The endpoint of environment `staging`: a head, the versions by number, a plan, and its event streams. */
interface PlanEndpoint extends HostileEndpoint {
  versions: Map<number, string>;
  state: { head: number; plan: string | null };
  /** Sends a frame to every event stream, once `streams` of them are open. */
  broadcast(frame: string, streams?: number): Promise<void>;
  /** GETs of a snapshot body (200) since the start: what a "no fetch" claim counts. */
  fetched: string[];
}

async function planEndpoint(chain: Snapshot[], planText: string | null): Promise<PlanEndpoint> {
  const versions = new Map(chain.map((s) => [s.version, serializeSnapshot(s)]));
  const state = { head: chain.at(-1)!.version, plan: planText, fetched: [] as string[] };
  const base = "/v1/environments/staging";
  const ep = await startHostileEndpoint((req, res, path) => {
    if (path === `${base}/events`) {
      openEventStream(res);
      if (state.plan !== null) res.write(`event: plan\ndata: ${state.plan}\n\n`);
      const head = chain.find((s) => s.version === state.head)!;
      res.write(formatSnapshotEvent({ environment: "staging", version: head.version, digest: head.digest }));
      return;
    }
    if (path === `${base}/plan`) {
      if (state.plan === null) return sendJson(res, 404, { error: { code: "not-found", message: "no plan" } });
      return sendText(res, state.plan);
    }
    const m = /\/snapshots\/(\d+)$/.exec(path);
    const version = m ? Number(m[1]) : path === `${base}/snapshot` ? state.head : null;
    const text = version === null ? undefined : versions.get(version);
    if (text === undefined) return sendJson(res, 404, { error: { code: "not-found", message: path } });
    if (m === null && req.headers["if-none-match"] === `"${version}"`) return void res.writeHead(304).end();
    state.fetched.push(path);
    sendText(res, text);
  });
  return Object.assign(ep, {
    versions,
    state,
    fetched: state.fetched,
    async broadcast(frame: string, streams = 1) {
      await waitFor(() => ep.streams.length >= streams, `${streams} event stream(s)`);
      for (const s of ep.streams as ServerResponse[]) s.write(frame);
    },
  });
}

async function client(
  ep: { url: string },
  options: Partial<ClientOptions> = {},
): Promise<{ c: StrataClient; errors: StrataClientError[]; changes: ChangeEvent[] }> {
  const c = new StrataClient({
    endpoint: ep.url,
    environment: "staging",
    service: "checkout",
    trustedKeys: [publisher.publicKey.text],
    rolloutKeys: [rolloutKey.publicKey.text],
    backoff: testBackoff,
    timeoutMs: 30_000,
    ...options,
  });
  clients.push(c);
  const errors: StrataClientError[] = [];
  const changes: ChangeEvent[] = [];
  c.on("error", (e) => errors.push(e));
  c.on("change", (e) => changes.push(e));
  await c.ready();
  return { c, errors, changes };
}

const planFrame = (p: RolloutPlan | string): string =>
  `event: plan\ndata: ${typeof p === "string" ? p : serializePlan(p)}\n\n`;

describe("following a plan", () => {
  it("each instance runs its cohort's version from ready(); a rollback plan moves the candidate cohort back without a fetch", async () => {
    const chain = chainOf("staging", 2);
    const [v1, v2] = chain as [Snapshot, Snapshot];
    const p1 = plan({ stable: v1, candidate: v2 });
    const ep = await planEndpoint(chain, serializePlan(p1));
    const ids = instances();
    const cand = await client(ep, { instance: ids.candidate });
    const stab = await client(ep, { instance: ids.stable });

    expect(versionFor(p1, { instance: ids.candidate }).role).toBe("candidate");
    expect(cand.c.version).toBe(2);
    expect(cand.c.get("app.release")).toBe(2);
    expect(cand.c.rollout()).toEqual({
      rollout: ROLLOUT,
      phase: "progressing",
      planVersion: 1,
      stable: 1,
      candidate: 2,
      running: 2,
      cohort: "candidate",
    });
    // The head is v2, the stable cohort stays on v1 (fetched by number: snapshots/1).
    expect(stab.c.version).toBe(1);
    expect(stab.c.get("limits.rps")).toBe(100);
    expect(stab.c.rollout()).toMatchObject({ running: 1, cohort: "stable" });
    expect(cand.errors).toEqual([]);
    expect(stab.errors).toEqual([]);
    // Entities have their own positions: get(key, { entity }) reads the version the plan gives the entity.
    let inCandidate = "";
    let inStable = "";
    for (let i = 0; inCandidate === "" || inStable === ""; i++) {
      const id = `user-${i}`;
      if (versionFor(p1, { entity: id }).role === "candidate") inCandidate ||= id;
      else inStable ||= id;
    }
    for (const { c } of [cand, stab]) {
      expect(c.get("app.release", { entity: inCandidate })).toBe(2);
      expect(c.get("app.release", { entity: inStable })).toBe(1);
      expect(c.get("app.missing", { entity: inStable, fallback: "none" })).toBe("none");
      expect(() => c.get("app.missing", { entity: inStable })).toThrow(
        expect.objectContaining({ code: "unknown-key" }),
      );
    }

    // The rollback: a new plan on the stream; the candidate client swaps to v1 from memory.
    const fetchedBefore = ep.fetched.length;
    const changed = new Promise<ChangeEvent>((r) => cand.c.on("change", r));
    ep.state.plan = serializePlan(rolledBack(p1, v1, v2));
    await ep.broadcast(planFrame(ep.state.plan), 2);
    const change = await changed;
    expect(change).toEqual({
      version: 1,
      previousVersion: 2,
      changes: [
        { key: "app.release", before: 2, after: 1, sensitive: false },
        { key: "limits.rps", before: 200, after: 100, sensitive: false },
      ],
    });
    expect(cand.c.version).toBe(1);
    expect(cand.c.rollout()).toMatchObject({ phase: "rolled-back", planVersion: 2, running: 1, cohort: "stable" });
    await waitFor(() => stab.c.rollout()?.planVersion === 2, "the stable client hears the rollback");
    expect(stab.c.version).toBe(1);
    expect(stab.changes).toEqual([]);
    // Neither client fetched a snapshot for the rollback.
    expect(ep.fetched.slice(fetchedBefore)).toEqual([]);

    // A version newer than the plan's candidate runs at once (no plan covers it).
    const v3 = signSnapshot(publisher, {
      environment: "staging",
      version: 3,
      previous: v2.digest,
      config: config(3) as never,
    });
    ep.versions.set(3, serializeSnapshot(v3));
    ep.state.head = 3;
    await ep.broadcast(formatSnapshotEvent({ environment: "staging", version: 3, digest: v3.digest }), 2);
    await waitFor(() => cand.c.version === 3 && stab.c.version === 3, "both on v3");
    expect(cand.c.rollout()).toBeNull();
  });
});

describe("refused plans change nothing", () => {
  const FULL = { basisPoints: 10000, instances: [0, POSITIONS], entities: [0, POSITIONS] } as const;

  /** A stable-cohort client following plan 5 of v1 → v2 hears `bad(v1, v2)`: refused, nothing changes. */
  async function refusedCase(
    bad: (v1: Snapshot, v2: Snapshot) => string,
    refusal: string,
    served: Snapshot[] = [],
  ): Promise<StrataClientError[]> {
    const chain = chainOf("staging", 2);
    const [v1, v2] = chain as [Snapshot, Snapshot];
    const good = plan({
      stable: v1,
      candidate: v2,
      planVersion: 5,
      cohort: { basisPoints: 0, instances: [0, 0], entities: [0, 0] },
    });
    const ep = await planEndpoint(chain, serializePlan(good));
    for (const v of served) ep.versions.set(v.version, serializeSnapshot(v));
    const { c, errors, changes } = await client(ep, { instance: instances().stable });
    expect(c.version).toBe(1);
    expect(c.rollout()).toMatchObject({ planVersion: 5, running: 1 });
    await ep.broadcast(planFrame(bad(v1, v2)));
    await waitFor(() => c.lastRefusedPlan !== null, `the refusal (${refusal})`);
    expect(c.lastRefusedPlan).toMatchObject({ refusal });
    expect(errors.at(-1)).toEqual(expect.objectContaining({ code: "plan-refused", refusal }));
    expect(c.version).toBe(1);
    expect(c.rollout()).toMatchObject({ planVersion: 5, running: 1 });
    expect(changes).toEqual([]);
    await Promise.all(clients.splice(0).map((x) => x.close()));
    return errors;
  }

  it("a plan naming a version no publishing key signed: unsigned-version", async () => {
    // A v2 another key signed, with other content: another digest than the v2 the client verified. (The same
    // content signed by another key would have the same digest — digests cover content, not signatures — and
    // so name the very version a publishing key signed; content made in the same millisecond as the client's
    // chain was exactly that, and the plan was rightly followed: this case failed about one run in six.)
    const forged = signSnapshot(newKey().key, {
      environment: "staging",
      version: 2,
      previous: `sha256:${"1".repeat(64)}`,
      config: config(99) as never,
    });
    await refusedCase(
      (v1) => serializePlan(plan({ stable: v1, candidate: forged, planVersion: 6, cohort: FULL })),
      "unsigned-version",
    );
    // A version signed by another key (v9), served by the endpoint: fetched once the plan's signature verified,
    // refused (invalid-signature), and the plan with it.
    const v9 = signSnapshot(newKey().key, {
      environment: "staging",
      version: 9,
      previous: `sha256:${"0".repeat(64)}`,
      config: config(9) as never,
    });
    const errors = await refusedCase(
      (v1) => serializePlan(plan({ stable: v1, candidate: v9, planVersion: 6, cohort: FULL })),
      "unsigned-version",
      [v9],
    );
    expect(errors.map((e) => e.code)).toEqual(["invalid-signature", "plan-refused"]);
  });

  it("a plan that waited for its candidate is refused when the candidate comes and is refused (not left waiting)", async () => {
    const [v1] = chainOf("staging", 1) as [Snapshot];
    // v2 as another key signed it: the endpoint serves it only after the plan naming it (the plan travels first).
    const v2 = chainOf("staging", 2, newKey().key)[1]!;
    const ep = await planEndpoint([v1], null);
    const { c, errors, changes } = await client(ep, { instance: instances().candidate });
    await ep.broadcast(planFrame(plan({ stable: v1, candidate: v2 })));
    // Not served yet: the plan waits (a 404 for snapshots/2), nothing refused so far.
    await waitFor(() => ep.requests.some((r) => r.path.endsWith("/snapshots/2")), "the plan's fetch of v2");
    expect(c.lastRefusedPlan).toBeNull();
    ep.versions.set(2, serializeSnapshot(v2));
    await ep.broadcast(formatSnapshotEvent({ environment: "staging", version: 2, digest: v2.digest }));
    await waitFor(() => c.lastRefusedPlan !== null, "the waiting plan judged");
    expect(c.lastRefusedPlan).toMatchObject({ planVersion: 1, refusal: "unsigned-version" });
    expect(errors.map((e) => e.code)).toContain("invalid-signature");
    expect(errors.at(-1)).toEqual(expect.objectContaining({ code: "plan-refused", refusal: "unsigned-version" }));
    expect(c.version).toBe(1);
    expect(changes).toEqual([]);
  });

  it("a plan naming another environment's versions: wrong-environment, and unsigned-version when it claims this one", async () => {
    const prod = chainOf("production", 2);
    await refusedCase(
      () => serializePlan(plan({ stable: prod[0]!, candidate: prod[1]!, planVersion: 6, environment: "production" })),
      "wrong-environment",
    );
    await refusedCase(
      () => serializePlan(plan({ stable: prod[0]!, candidate: prod[1]!, planVersion: 6 })),
      "unsigned-version",
    );
  });

  it("a plan whose bytes were altered: digest-mismatch; signed by a publishing key: untrusted-signature", async () => {
    await refusedCase(
      (v1, v2) =>
        serializePlan(plan({ stable: v1, candidate: v2, planVersion: 6, cohort: FULL })).replace(
          '"basisPoints":10000',
          '"basisPoints":9999',
        ),
      "digest-mismatch",
    );
    await refusedCase(
      (v1, v2) => serializePlan(plan({ stable: v1, candidate: v2, planVersion: 6, cohort: FULL }, publisher)),
      "untrusted-signature",
    );
  });

  it("an older plan version: plan-regression; another plan with the same version: plan-equivocation", async () => {
    await refusedCase(
      (v1, v2) => serializePlan(plan({ stable: v1, candidate: v2, planVersion: 4, cohort: FULL })),
      "plan-regression",
    );
    await refusedCase(
      (v1, v2) => serializePlan(plan({ stable: v1, candidate: v2, planVersion: 5, cohort: FULL })),
      "plan-equivocation",
    );
  });

  it("a client without rolloutKeys follows no plan: it runs the head and says why", async () => {
    const chain = chainOf("staging", 2);
    const p = plan({
      stable: chain[0]!,
      candidate: chain[1]!,
      cohort: { basisPoints: 0, instances: [0, 0], entities: [0, 0] },
    });
    const ep = await planEndpoint(chain, serializePlan(p));
    const { c, errors } = await client(ep, { instance: "pod-any", rolloutKeys: [] });
    await waitFor(() => errors.length > 0, "the refusal");
    expect(c.version).toBe(2);
    expect(c.rollout()).toBeNull();
    expect(errors[0]).toMatchObject({ code: "plan-refused", refusal: "untrusted-signature" });
    expect(errors[0]!.message).toMatch(/no rolloutKeys/);
    // It never asked for the plan either.
    expect(ep.requests.some((r) => r.path.endsWith("/plan"))).toBe(false);
  });
});

describe("the plan cache", () => {
  it("an offline restart keeps the cohort's version: the plan and the stable version are kept beside the cache file", async () => {
    const chain = chainOf("staging", 2);
    const [v1, v2] = chain as [Snapshot, Snapshot];
    const p1 = plan({ stable: v1, candidate: v2 });
    const ep = await planEndpoint(chain, serializePlan(p1));
    const dir = tempdir("strata-sdk-plan-cache-");
    const ids = instances();
    const files = { stable: join(dir, "stable.json"), candidate: join(dir, "candidate.json") };
    for (const role of ["stable", "candidate"] as const) {
      const { c } = await client(ep, { instance: ids[role], cacheFile: files[role] });
      expect(c.version).toBe(role === "stable" ? 1 : 2);
      await c.close();
      // The cache file holds the head (v2) as ever; the plan cache the plan and the other version.
      expect(JSON.parse(readFileSync(files[role], "utf8"))).toMatchObject({ version: 2 });
      expect(existsSync(`${files[role]}.plan`)).toBe(true);
    }
    await ep.close();
    for (const role of ["stable", "candidate"] as const) {
      const { c, errors } = await client(ep, { instance: ids[role], cacheFile: files[role], timeoutMs: 300 });
      expect(c.source).toBe("cache");
      expect(c.version).toBe(role === "stable" ? 1 : 2);
      expect(c.rollout()).toMatchObject({ planVersion: 1, cohort: role });
      expect(errors.filter((e) => e.code === "plan-refused")).toEqual([]);
    }
  });

  it("a plan cache altered on disk is not used: the head runs", async () => {
    const chain = chainOf("staging", 2);
    const [v1, v2] = chain as [Snapshot, Snapshot];
    const ep = await planEndpoint(chain, serializePlan(plan({ stable: v1, candidate: v2 })));
    const file = join(tempdir("strata-sdk-plan-cache-"), "cache.json");
    const { c } = await client(ep, { instance: instances().stable, cacheFile: file });
    expect(c.version).toBe(1);
    await c.close();
    await ep.close();
    const { writeFileSync } = await import("node:fs");
    writeFileSync(`${file}.plan`, readFileSync(`${file}.plan`, "utf8").replace("canary 50%", "canary 51%"));
    const again = await client(ep, { instance: instances().stable, cacheFile: file, timeoutMs: 300 });
    expect(again.c.version).toBe(2);
    expect(again.c.rollout()).toBeNull();
  });
});
