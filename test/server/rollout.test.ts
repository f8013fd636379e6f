// @module-tag e2e
// The endpoint's rollouts end to end over HTTP: a push under a policy serves a signed plan (before the
// version it names), raw clients' reports move the gates, the loop rolls back, promotes or holds by itself,
// operators act, and the hostile cases are refused.
import { afterAll, afterEach, describe, expect, it, vi } from "vitest";
import { verifyPlanText, signedVersion } from "../../src/core/rollout/index.js";
import { cleanupTempdirs } from "../support/gitdir.js";
import {
  CANARY,
  EventReader,
  postReports,
  publisher,
  push,
  report,
  rolloutKey,
  stableAndCandidate,
  startRolloutServer,
  version,
  type PlanDoc,
  type RolloutServer,
} from "./rollout-support.js";
import { ROLLOUT_EVENT, type RolloutStatusDocument } from "../../src/core/protocol/index.js";
import { newKey } from "../support/snapshots.js";

const running: RolloutServer[] = [];
const readers: EventReader[] = [];
afterEach(async () => {
  for (const r of readers.splice(0)) r.close();
  for (const s of running.splice(0)) await s.close();
});
afterAll(() => cleanupTempdirs());

async function start(options: Parameters<typeof startRolloutServer>[0]): Promise<RolloutServer> {
  const s = await startRolloutServer(options);
  running.push(s);
  return s;
}

async function stream(url: string): Promise<EventReader> {
  const r = await EventReader.open(url);
  readers.push(r);
  return r;
}

async function status(url: string): Promise<RolloutStatusDocument> {
  const res = await fetch(`${url}/v1/environments/staging/rollout`);
  expect(res.status).toBe(200);
  return (await res.json()) as RolloutStatusDocument;
}

describe("a push under a canary policy", () => {
  it("serves a signed plan naming the stable and the candidate, before the candidate on the event stream", async () => {
    const s = await start({ policy: CANARY, intervalMs: 60_000 });
    const v1 = version(1, null);
    expect((await push(s.url, v1)).status).toBe(201);
    const events = await stream(s.url);
    await events.until((f) => f.some((x) => x.event === "snapshot"));
    const v2 = version(2, v1);
    expect((await push(s.url, v2)).status).toBe(201);
    const plan = await events.plan((p) => p.candidate.version === 2);
    expect(plan).toMatchObject({
      phase: "progressing",
      stable: { version: 1, digest: v1.digest },
      candidate: { version: 2, digest: v2.digest },
      cohort: { basisPoints: 500 },
    });
    // The plan arrives before the version it names.
    await events.until((f) => f.some((x) => x.event === "snapshot" && x.data.includes('"version":2')));
    const order = events.frames.map((f) => (f.event === "plan" ? "plan" : `${f.event}:${JSON.parse(f.data).version}`));
    expect(order.indexOf("plan")).toBeLessThan(order.indexOf("snapshot:2"));

    // GET plan: the bytes as signed, verified as a client would, ETag = digest, 304 when unchanged.
    const res = await fetch(`${s.url}/v1/environments/staging/plan`);
    expect(res.status).toBe(200);
    const etag = res.headers.get("etag");
    const text = await res.text();
    expect(etag).toBe(`"${plan.digest}"`);
    const check = verifyPlanText(text, {
      environment: "staging",
      rolloutKeys: [rolloutKey.key.publicKey],
      signedVersions: [signedVersion(v1, [publisher.key.publicKey]), signedVersion(v2, [publisher.key.publicKey])],
      previous: null,
      now: Date.now(),
    });
    expect(check.ok).toBe(true);
    const again = await fetch(`${s.url}/v1/environments/staging/plan`, { headers: { "if-none-match": etag! } });
    expect(again.status).toBe(304);

    // A new stream gets the current plan first, then the version.
    const late = await stream(s.url);
    await late.until((f) => f.some((x) => x.event === "snapshot"));
    expect(late.frames.map((f) => f.event).slice(0, 2)).toEqual(["plan", "snapshot"]);

    // GET rollout: the state, the plan, the start decision.
    const doc = await status(s.url);
    expect(doc).toMatchObject({
      environment: "staging",
      service: null,
      policy: "canary 5% for 1s; gates error-rate",
      state: { phase: "progressing", percent: 500, stable: { version: 1 }, candidate: { version: 2 } },
      plan: { planVersion: plan.planVersion, digest: plan.digest },
    });
    expect(doc.decisions[0]).toMatchObject({ action: "start", actor: "strata serve" });
  });

  it("a chain without a policy publishes all at once: no plan (404), the stream unchanged", async () => {
    const s = await start({ policy: CANARY, intervalMs: 60_000 });
    const v1 = version(1, null, { environment: "production" });
    expect((await push(s.url, v1)).status).toBe(201);
    expect((await push(s.url, version(2, v1, { environment: "production" }))).status).toBe(201);
    const res = await fetch(`${s.url}/v1/environments/production/plan`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe("not-found");
    const r = await EventReader.open(s.url, "/v1/environments/production/events");
    readers.push(r);
    await r.until((f) => f.some((x) => x.event === "snapshot"));
    expect(r.frames.map((f) => f.event)).toEqual(["snapshot"]);
    const doc = (await (await fetch(`${s.url}/v1/environments/production/rollout`)).json()) as RolloutStatusDocument;
    expect(doc).toMatchObject({ policy: "all-at-once", state: null, plan: null });
  });
});

describe("the decision loop", () => {
  it("rolls back by itself when the candidate's clients report a worse error rate", async () => {
    const s = await start({ policy: CANARY });
    const events = await stream(s.url);
    const dashboard = await EventReader.open(s.url, "/v1/events");
    readers.push(dashboard);
    await stableAndCandidate(s.url);
    await events.plan((p) => p.phase === "progressing");
    // Raw HTTP clients: the candidate cohort fails 10% of its requests, the control 1%.
    const res = await postReports(s.url, [
      report("canary-a", 2, 20_000, 2_000),
      report("canary-b", 2, 20_000, 2_000),
      report("stable-a", 1, 50_000, 500),
      report("stable-b", 1, 50_000, 500),
    ]);
    expect(res.status).toBe(202);
    expect(await res.json()).toEqual({ accepted: 4, refused: [] });
    const back = await events.plan((p) => p.phase === "rolled-back");
    expect(back.cohort.basisPoints).toBe(0);
    expect(back.reason).toMatch(/error-rate/);
    const doc = await status(s.url);
    expect(doc.state?.phase).toBe("rolled-back");
    const rollback = doc.decisions.find((d) => d.action === "rollback")!;
    expect(rollback.breaches![0]).toMatchObject({ gate: "error-rate", metric: "error-rate", threshold: 0.01 });
    expect(rollback.breaches![0]!.samples).toEqual({ candidate: 40_000, control: 100_000 });
    // The audit trail: a log line naming the metric, value, threshold, samples and interval.
    // (Written once the record is stored; a store watch may announce the plan a moment before.)
    const audit = await vi.waitFor(() => {
      const line = s.logs
        .map((l) => JSON.parse(l) as Record<string, unknown>)
        .find((l) => l.msg === "rollout" && l.action === "rollback");
      if (line === undefined) throw new Error("no audit line yet");
      return line;
    });
    expect(audit).toMatchObject({ environment: "staging", phase: "rolled-back", actor: "strata serve" });
    expect((audit!.breaches as { metric: string; samples: unknown }[])[0]).toMatchObject({
      metric: "error-rate",
      threshold: 0.01,
      samples: { candidate: 40_000, control: 100_000 },
    });
    expect(doc.cohorts.candidate).toMatchObject({ version: 2, instances: 2, requests: 40_000, errors: 4_000 });
    // The dashboard's stream carries the rollout's summary.
    const summary = await dashboard.until((f) =>
      f.find((x) => x.event === ROLLOUT_EVENT && x.data.includes('"phase":"rolled-back"')),
    );
    expect(JSON.parse(summary.data)).toMatchObject({
      environment: "staging",
      service: null,
      phase: "rolled-back",
      percent: 0,
      stable: { version: 1 },
      candidate: { version: 2 },
      planVersion: back.planVersion,
    });
  });

  it("promotes a good change once the bake is over and the gate passes", async () => {
    const s = await start({ policy: CANARY });
    const events = await stream(s.url);
    await stableAndCandidate(s.url);
    const res = await postReports(s.url, [
      report("canary-a", 2, 200_000, 2_000),
      report("stable-a", 1, 200_000, 2_000),
    ]);
    expect(res.status).toBe(202);
    const done = await events.plan((p) => p.phase === "promoted");
    expect(done.cohort.basisPoints).toBe(10_000);
    expect(done.reason).toMatch(/gates error-rate passed/);
    expect((await status(s.url)).decisions[0]).toMatchObject({ action: "promote" });
  });

  it("holds a quiet chain with too few samples, and the status says why", async () => {
    const s = await start({ policy: CANARY });
    await stableAndCandidate(s.url);
    expect((await postReports(s.url, [report("canary-a", 2, 10, 0), report("stable-a", 1, 10, 0)])).status).toBe(202);
    const doc = await vi.waitFor(
      async () => {
        const d = await status(s.url);
        const hold = d.decisions[0];
        if (hold?.action !== "hold" || hold.evaluations[0]?.reason !== "too-few-samples")
          throw new Error("not held yet");
        return d;
      },
      { timeout: 30_000, interval: 50 },
    );
    expect(doc.state?.phase).toBe("progressing");
    const hold = doc.decisions[0]!;
    expect(hold.evaluations[0]).toMatchObject({
      gate: "error-rate",
      verdict: "inconclusive",
      reason: "too-few-samples",
    });
    expect(hold.reason).toMatch(/inconclusive \(too-few-samples\)/);
  });
});

describe("prometheus gates", () => {
  it("without --prometheus a prometheus gate holds the rollout and says why (never passes, never rolls back)", async () => {
    const s = await start({
      policy: [
        "canary: { percent: 5, bake: 1s }",
        "gates:",
        "  - { name: http-errors, metric: prometheus, max_increase: 1%, bad: 'sum(rate(errors{v=\"{{version}}\"}[{{window}}]))', total: 'sum(rate(requests{v=\"{{version}}\"}[{{window}}]))' }",
      ],
    });
    await stableAndCandidate(s.url);
    const doc = await vi.waitFor(
      async () => {
        const d = await status(s.url);
        if (d.decisions[0]?.action !== "hold" || d.decisions[0].evaluations.length === 0) throw new Error("not yet");
        return d;
      },
      { timeout: 30_000, interval: 50 },
    );
    expect(doc.state?.phase).toBe("progressing");
    expect(doc.decisions[0]!.evaluations[0]).toMatchObject({
      gate: "http-errors",
      verdict: "inconclusive",
      reason: "query-failed",
    });
    expect(doc.decisions[0]!.reason).toMatch(/strata serve has no --prometheus/);
  });
});

describe("operator actions", () => {
  it("pause, resume, promote through the routes; an action that does not apply is 409 rollout-conflict", async () => {
    const s = await start({ policy: CANARY, intervalMs: 60_000 });
    await stableAndCandidate(s.url);
    const act = (a: string, body?: unknown) =>
      fetch(`${s.url}/v1/environments/staging/rollout/${a}`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: body === undefined ? "" : JSON.stringify(body),
      });
    const paused = await act("pause", { reason: "looking at a dashboard" });
    expect(paused.status).toBe(200);
    expect(((await paused.json()) as RolloutStatusDocument).state).toMatchObject({
      phase: "paused",
      reason: "paused by local: looking at a dashboard",
    });
    const twice = await act("pause");
    expect(twice.status).toBe(409);
    expect(((await twice.json()) as { error: { code: string } }).error.code).toBe("rollout-conflict");
    expect((await act("resume")).status).toBe(200);
    const promoted = (await (await act("promote")).json()) as RolloutStatusDocument;
    expect(promoted.state?.phase).toBe("promoted");
    expect(promoted.decisions.map((d) => d.action).slice(0, 4)).toEqual(["promote", "resume", "pause", "start"]);
    const unknown = await act("explode");
    expect(unknown.status).toBe(404);
    const none = await fetch(`${s.url}/v1/environments/production/rollout/pause`, { method: "POST" });
    expect(none.status).toBe(409);
  });
});

describe("freeze windows", () => {
  const frozen = [
    "canary: { percent: 5, bake: 1s }",
    "freeze:",
    `  - { from: "${new Date(Date.now() - 3600_000).toISOString().slice(0, 19)}Z", until: "${new Date(Date.now() + 3600_000).toISOString().slice(0, 19)}Z", reason: test-freeze }`,
  ];
  it("a push during a freeze is refused with 409 rollout-frozen; the emergency path goes through", async () => {
    const s = await start({ policy: frozen, intervalMs: 60_000 });
    const v1 = version(1, null);
    expect((await push(s.url, v1)).status).toBe(201);
    const res = await push(s.url, version(2, v1));
    expect(res.status).toBe(409);
    const body = (await res.json()) as { error: { code: string; message: string } };
    expect(body.error.code).toBe("rollout-frozen");
    expect(body.error.message).toMatch(/frozen \(test-freeze\)/);
    expect((await fetch(`${s.url}/v1/environments/staging/snapshot`)).headers.get("etag")).toBe('"1"');
    const emergency = await push(s.url, version(2, v1, { emergency: true }));
    expect(emergency.status).toBe(201);
    const doc = await status(s.url);
    expect(doc.state?.reason).toMatch(/emergency/);
  });
});

describe("plans the clients would refuse", () => {
  it("a plan naming an unsigned or another environment's version is refused by verifyPlan", async () => {
    const s = await start({ policy: CANARY, intervalMs: 60_000 });
    const { v1, v2 } = await stableAndCandidate(s.url);
    const text = await (await fetch(`${s.url}/v1/environments/staging/plan`)).text();
    const rogue = newKey();
    const unsigned = version(2, v1, { key: rogue.key });
    const other = version(2, v1, { environment: "production" });
    const base = {
      environment: "staging",
      rolloutKeys: [rolloutKey.key.publicKey],
      previous: null,
      now: Date.now(),
    };
    // The versions a client holds are the ones signed by a publishing key: the rogue one is not.
    expect(() => signedVersion(unsigned, [publisher.key.publicKey])).toThrow();
    const otherEnv = verifyPlanText(text, {
      ...base,
      signedVersions: [signedVersion(v1, [publisher.key.publicKey]), signedVersion(other, [publisher.key.publicKey])],
    });
    expect(otherEnv).toMatchObject({ ok: false, refusal: "unsigned-version" });
    expect(verifyPlanText(text, { ...base, environment: "production", signedVersions: [] })).toMatchObject({
      ok: false,
      refusal: "wrong-environment",
    });
    // The server itself never signs a plan for a version that did not verify: an unsigned push is refused
    // before any plan is made, and the plan stays the one naming v2.
    const v3 = version(3, v2, { key: rogue.key });
    expect((await push(s.url, v3)).status).toBe(400);
    const after = JSON.parse(await (await fetch(`${s.url}/v1/environments/staging/plan`)).text()) as PlanDoc;
    expect(after.candidate).toEqual({ version: 2, digest: v2.digest });
  });
});

describe("hostile reports", () => {
  it("garbage is refused (400 or per report), oversize is 413, a flood is 429 with Retry-After; none moves the gate", async () => {
    const s = await start({ policy: CANARY, intervalMs: 60_000 });
    await stableAndCandidate(s.url);
    const post = (body: string) =>
      fetch(`${s.url}/v1/environments/staging/reports`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body,
      });
    const garbage = await post("{not json");
    expect(garbage.status).toBe(400);
    expect(((await garbage.json()) as { error: { code: string } }).error.code).toBe("invalid-argument");
    expect((await post('{"reports": 5}')).status).toBe(400);
    const mixed = await postReports(s.url, [
      { instance: "liar", version: 2, requests: 10, errors: 11, intervalMs: 1000 },
      { instance: "liar", version: 2, requests: 1e12, errors: 0, intervalMs: 1000 },
      "nonsense",
    ]);
    expect(mixed.status).toBe(202);
    const answer = (await mixed.json()) as { accepted: number; refused: { index: number; problem: string }[] };
    expect(answer.accepted).toBe(0);
    expect(answer.refused.map((r) => r.index)).toEqual([0, 1, 2]);
    const huge = await post(JSON.stringify({ reports: [], pad: "x".repeat(20_000) }));
    expect(huge.status).toBe(413);
    const many = await postReports(
      s.url,
      Array.from({ length: 65 }, (_, i) => report(`i${i}`, 2, 1, 0)),
    );
    expect(many.status).toBe(413);
    // A flood from one instance: the bucket empties, the rest are 429 with Retry-After and count nothing.
    const flood = await Promise.all(
      Array.from({ length: 40 }, () => postReports(s.url, [report("flooder", 2, 1000, 1000)])),
    );
    const codes = flood.map((r) => r.status);
    expect(codes.filter((c) => c === 429).length).toBeGreaterThan(0);
    const limited = flood.find((r) => r.status === 429)!;
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe("rate-limited");
    const accepted = codes.filter((c) => c === 202).length;
    // What counted: only the accepted batches of the flooder; nothing of the garbage.
    const doc = await status(s.url);
    expect(doc.cohorts.candidate).toMatchObject({ instances: 1, requests: accepted * 1000 });
    expect(doc.state?.phase).toBe("progressing");
  });
});
