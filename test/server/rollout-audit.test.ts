// @module-tag e2e
// Rollout decisions and operators' actions in the audit document (`GET /v1/audit`, admin only), beside the
// history lines it always had: each start, pause, resume, promote and abort with the token that acted, an
// automatic rollback by the gate with the breach's numbers, and a hold once when a gate starts holding (not
// at every round of the loop).
import { appendFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { openStore } from "../../src/io/stores/index.js";
import { etcdMissing, startEtcd } from "../support/etcd.js";
import type { AuditDocument, RolloutStatusDocument } from "../../src/core/protocol/index.js";
import { createToken, readTokens } from "../../src/server/index.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import {
  CANARY,
  postReports,
  push,
  report,
  startRolloutServer,
  version,
  type RolloutServer,
} from "./rollout-support.js";

const running: RolloutServer[] = [];
afterEach(async () => {
  for (const s of running.splice(0)) await s.close();
});
afterAll(() => cleanupTempdirs());

async function tokens() {
  const file = `${tempdir("strata-rollout-audit-tokens-")}/tokens.json`;
  const operator = (await createToken(file, { scopes: ["push:staging"], name: "release-bot" })).token;
  const admin = (await createToken(file, { scopes: ["admin"], name: "auditor" })).token;
  const reporter = (await createToken(file, { scopes: ["report:staging", "read:*"], name: "sdk" })).token;
  return { operator, admin, reporter, grants: await readTokens(file) };
}

async function audit(url: string, token: string): Promise<{ doc: AuditDocument; text: string }> {
  const res = await fetch(`${url}/v1/audit`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  const text = await res.text();
  return { doc: JSON.parse(text) as AuditDocument, text };
}

async function status(url: string, token: string): Promise<RolloutStatusDocument> {
  const res = await fetch(`${url}/v1/environments/staging/rollout`, { headers: { authorization: `Bearer ${token}` } });
  expect(res.status).toBe(200);
  return (await res.json()) as RolloutStatusDocument;
}

function act(url: string, action: string, token: string, reason?: string): Promise<Response> {
  return fetch(`${url}/v1/environments/staging/rollout/${action}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${token}` },
    body: reason === undefined ? "" : JSON.stringify({ reason }),
  });
}

describe("GET /v1/audit and rollouts", () => {
  it("lists each start, pause, resume, promote and abort with the token that acted, beside the history lines", async () => {
    const t = await tokens();
    const s = await startRolloutServer({ policy: CANARY, intervalMs: 60_000, tokens: t.grants });
    running.push(s);
    const v1 = version(1, null);
    const v2 = version(2, v1);
    const v3 = version(3, v2);
    expect((await push(s.url, v1, t.operator)).status).toBe(201);
    expect((await push(s.url, v2, t.operator)).status).toBe(201);
    expect((await act(s.url, "pause", t.operator, "watching the canary")).status).toBe(200);
    expect((await act(s.url, "resume", t.operator)).status).toBe(200);
    expect((await act(s.url, "promote", t.operator)).status).toBe(200);
    expect((await push(s.url, v3, t.operator)).status).toBe(201);
    expect((await act(s.url, "abort", t.operator, "wrong pull request")).status).toBe(200);

    const { doc, text } = await audit(s.url, t.admin);
    // The history lines are as they were: one per version.
    expect(doc.schemaVersion).toBe(1);
    expect(doc.entries.map((e) => [e.version, e.action, e.actor])).toEqual([
      [1, "publish", "release-bot"],
      [2, "publish", "release-bot"],
      [3, "publish", "release-bot"],
    ]);
    expect(doc.rollouts.map((r) => [r.rollout, r.action, r.actor, r.phase, r.percent, r.planVersion])).toEqual([
      ["staging@v2.p1", "start", "release-bot", "progressing", 500, 1],
      ["staging@v2.p1", "pause", "release-bot", "paused", 500, 2],
      ["staging@v2.p1", "resume", "release-bot", "progressing", 500, 3],
      ["staging@v2.p1", "promote", "release-bot", "promoted", 10_000, 4],
      ["staging@v3.p5", "start", "release-bot", "progressing", 500, 5],
      ["staging@v3.p5", "abort", "release-bot", "aborted", 0, 6],
    ]);
    expect(doc.rollouts[1]!.reason).toContain("watching the canary");
    expect(doc.rollouts[5]!.reason).toContain("wrong pull request");
    for (const r of doc.rollouts) {
      expect(r).toMatchObject({ environment: "staging" });
      expect(r.service).toBeUndefined();
      expect(Date.parse(r.at)).not.toBeNaN();
    }
    expect(doc.rollouts[4]).toMatchObject({ stable: { version: 2, digest: v2.digest }, candidate: { version: 3 } });
    // Oldest first, as the history lines.
    expect([...doc.rollouts.map((r) => r.at)].sort()).toEqual(doc.rollouts.map((r) => r.at));
    // No token in it.
    for (const token of [t.operator, t.admin, t.reporter]) expect(text).not.toContain(token);
    // Admin only, as before.
    const denied = await fetch(`${s.url}/v1/audit`, { headers: { authorization: `Bearer ${t.operator}` } });
    expect(denied.status).toBe(403);
  });

  it("an automatic rollback is there by the gate with the breach's numbers; a hold once, not every round", async () => {
    const t = await tokens();
    const s = await startRolloutServer({ policy: CANARY, intervalMs: 100, tokens: t.grants });
    running.push(s);
    const v1 = version(1, null);
    expect((await push(s.url, v1, t.operator)).status).toBe(201);
    expect((await push(s.url, version(2, v1), t.operator)).status).toBe(201);
    // The loop holds (no reports: the gate is inconclusive); watch it decide the same hold round after round.
    const rounds = new Set<string>();
    while (rounds.size < 5) {
      const d = (await status(s.url, t.reporter)).decisions[0]!;
      if (d.action === "hold" && (d.holds ?? []).every((h) => h.code === "gate")) rounds.add(d.at);
      await new Promise((r) => setTimeout(r, 50));
    }
    const held = (await audit(s.url, t.admin)).doc.rollouts;
    expect(held.map((r) => r.action)).toEqual(["start", "hold"]);
    expect(held[1]).toMatchObject({ actor: "strata serve", phase: "progressing" });
    expect(held[1]!.holds!.map((h) => [h.code, h.gate])).toContainEqual(["gate", "error-rate"]);

    const res = await postReports(
      s.url,
      [
        report("canary-a", 2, 20_000, 2_000),
        report("canary-b", 2, 20_000, 2_000),
        report("stable-a", 1, 50_000, 500),
        report("stable-b", 1, 50_000, 500),
      ],
      t.reporter,
    );
    expect(res.status).toBe(202);
    while ((await status(s.url, t.reporter)).state?.phase !== "rolled-back")
      await new Promise((r) => setTimeout(r, 50));
    // The file store appends the line right after it writes the record, under the same lock: a reader may see the
    // record (the status, through the store's watch) a moment before the line.
    let { doc } = await audit(s.url, t.admin);
    while (doc.rollouts.at(-1)?.action !== "rollback") {
      await new Promise((r) => setTimeout(r, 50));
      ({ doc } = await audit(s.url, t.admin));
    }
    const rollback = doc.rollouts.at(-1)!;
    expect(doc.rollouts.map((r) => r.action)).toEqual(["start", "hold", "rollback"]);
    expect(rollback).toMatchObject({
      environment: "staging",
      rollout: "staging@v2.p1",
      action: "rollback",
      actor: "strata serve",
      phase: "rolled-back",
      percent: 0,
    });
    expect(rollback.reason).toMatch(/^gate error-rate: /);
    const breach = rollback.breaches![0]!;
    expect(breach).toMatchObject({
      gate: "error-rate",
      metric: "error-rate",
      value: 0.1,
      control: 0.01,
      threshold: 0.01,
      samples: { candidate: 40_000, control: 100_000 },
    });
    expect(breach.interval[0]).toBeGreaterThan(0.01);
    expect(breach.interval[0]).toBeLessThanOrEqual(breach.interval[1]);
    expect(breach.window.from).toBeLessThan(breach.window.to);
  });
});

describe("the stores keep a rollout's audit lines with its record", () => {
  async function contract(location: string): Promise<string[]> {
    const a = await openStore(location);
    const b = await openStore(location);
    try {
      const first = await a.writeRollout("staging/services/checkout", '{"r":1}', null, '{"n":1}');
      expect(first).not.toBeNull();
      // The loser of the compare-and-swap writes no line: the audit never names a decision not taken.
      expect(await b.writeRollout("staging/services/checkout", '{"r":2}', null, '{"n":"lost"}')).toBeNull();
      expect(await b.writeRollout("staging/services/checkout", '{"r":2}', first!.revision, '{"n":2}')).not.toBeNull();
      // A record written without a line (a renewal, a hold that changes nothing) adds none.
      const now = (await a.readRollout("staging/services/checkout"))!;
      expect(await a.writeRollout("staging/services/checkout", '{"r":3}', now.revision)).not.toBeNull();
      expect(await a.writeRollout("production", '{"r":1}', null, '{"n":3}')).not.toBeNull();
      return (await b.rolloutAudit()).sort();
    } finally {
      await a.close();
      await b.close();
    }
  }

  it("file: the loser writes none; a torn line is skipped and the next one stands on its own", async () => {
    const dir = tempdir("strata-rollout-audit-store-");
    expect(await contract(`file:${dir}`)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    // A crash cut the last line short: the next append starts on a line of its own.
    appendFileSync(join(dir, "envs", "production", "rollout-audit.jsonl"), '{"n":');
    const store = await openStore(`file:${dir}`);
    try {
      const now = (await store.readRollout("production"))!;
      expect(await store.writeRollout("production", '{"r":2}', now.revision, '{"n":4}')).not.toBeNull();
      expect((await store.rolloutAudit()).sort()).toEqual(['{"n":', '{"n":1}', '{"n":2}', '{"n":3}', '{"n":4}']);
    } finally {
      await store.close();
    }
  });

  it.skipIf(etcdMissing)("etcd: the line is in the record's transaction", async () => {
    const etcd = await startEtcd();
    try {
      expect(await contract(`etcd://${etcd.hostPort}/audit-contract`)).toEqual(['{"n":1}', '{"n":2}', '{"n":3}']);
    } finally {
      await etcd.stop();
    }
  });
});
