// @module-tag e2e
// `strata rollout status|pause|resume|abort|promote` (the built CLI) against a real endpoint running a rollout:
// text and JSON, the actions recorded with the caller's token name, and the errors with their exit codes.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RolloutStatusDocument } from "../../src/core/protocol/index.js";
import { createToken, readTokens } from "../../src/server/index.js";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import {
  CANARY,
  postReports,
  push,
  report,
  startRolloutServer,
  version,
  type RolloutServer,
} from "../server/rollout-support.js";

let server: RolloutServer;
let operator = "";
let reader = "";
let reporter = "";
beforeAll(async () => {
  const file = `${tempdir("strata-rollout-tokens-")}/tokens.json`;
  operator = (await createToken(file, { scopes: ["push:staging"], name: "release-bot" })).token;
  reader = (await createToken(file, { scopes: ["read:*", "report:staging"], name: "viewer" })).token;
  reporter = (await createToken(file, { scopes: ["report:staging"], name: "sdk-reporting" })).token;
  // The tokens are sent over loopback; the server needs them to know who acted.
  server = await startRolloutServer({ policy: CANARY, intervalMs: 60_000, tokens: await readTokens(file) });
  const v1 = version(1, null);
  expect((await push(server.url, v1, operator)).status).toBe(201);
  const v2 = version(2, v1);
  expect((await push(server.url, v2, operator)).status).toBe(201);
  expect((await postReports(server.url, [report("canary-a", 2, 2_000, 20)], reader)).status).toBe(202);
});
afterAll(async () => {
  await server.close();
  cleanupTempdirs();
});

const run = (args: string[], token = operator) =>
  strata(["rollout", ...args, "--endpoint", server.url], { env: { STRATA_TOKEN: token } });

describe("strata rollout", () => {
  it("status: the phase, the share, the cohorts and the latest decision, as text and as JSON", async () => {
    const text = await run(["status", "--env", "staging"], reader);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toContain("staging: policy canary 5% for 1s; gates error-rate");
    expect(text.stdout).toMatch(/rollout staging@v2\.p1: PROGRESSING at 5% on v2 \(stable v1\)/);
    expect(text.stdout).toContain("candidate v2: reports from 1 instance: 2000 requests, 20 errors (1.00%)");
    expect(text.stdout).toContain("stable v1: no reports");
    expect(text.stdout).toMatch(/start by release-bot \(plan 1\): started at 5%/);
    const json = await run(["status", "--env", "staging", "--format", "json"], reader);
    expect(json.exitCode).toBe(0);
    const doc = JSON.parse(json.stdout) as RolloutStatusDocument;
    expect(doc.state).toMatchObject({ phase: "progressing", percent: 500 });
  });

  it("pause and resume, recorded with the token's name; a second pause is exit 4 rollout-conflict", async () => {
    const paused = await run(["pause", "--env", "staging", "--reason", "watching the canary"]);
    expect(paused.exitCode, paused.stderr).toBe(0);
    expect(paused.stdout).toContain("PAUSED at 5%");
    expect(paused.stdout).toContain("why: paused by release-bot: watching the canary");
    const again = await run(["pause", "--env", "staging"]);
    expect(again.exitCode).toBe(4);
    expect(again.stderr).toMatch(/rollout-conflict/);
    expect(again.stderr).toMatch(/cannot pause: the rollout is already paused/);
    const resumed = await run(["resume", "--env", "staging", "--format", "json"]);
    expect(resumed.exitCode).toBe(0);
    expect((JSON.parse(resumed.stdout) as RolloutStatusDocument).decisions[0]).toMatchObject({
      action: "resume",
      actor: "release-bot",
    });
  });

  it("a read token may not act (exit 4 access-denied); a missing --env is exit 2; an unreachable endpoint exit 4", async () => {
    const denied = await run(["abort", "--env", "staging"], reader);
    expect(denied.exitCode).toBe(4);
    expect(denied.stderr).toMatch(/access-denied/);
    const noEnv = await strata(["rollout", "status", "--endpoint", server.url]);
    expect(noEnv.exitCode).toBe(2);
    expect(noEnv.stderr).toMatch(/--env/);
    const down = await strata(["rollout", "status", "--env", "staging", "--endpoint", "http://127.0.0.1:9"]);
    expect(down.exitCode).toBe(4);
    expect(down.stderr).toMatch(/unreachable/);
  });

  it("abort sends everyone back; an environment without a rollout says so", async () => {
    const aborted = await run(["abort", "--env", "staging", "--reason", "wrong key"]);
    expect(aborted.exitCode).toBe(0);
    expect(aborted.stdout).toContain("ABORTED at 0% on v2 (stable v1)");
    const none = await run(["status", "--env", "production"], reader);
    expect(none.exitCode).toBe(0);
    expect(none.stdout).toContain("no rollout: every version is published to every client at once");
  });
});

describe("the report scope", () => {
  it("report:<env> posts reports and nothing else; push does not imply it", async () => {
    expect((await postReports(server.url, [report("r", 2, 10, 0)], reporter)).status).toBe(202);
    const read = await fetch(`${server.url}/v1/environments/staging/snapshot`, {
      headers: { authorization: `Bearer ${reporter}` },
    });
    expect(read.status).toBe(403);
    expect((await postReports(server.url, [report("r", 2, 10, 0)], reporter, "production")).status).toBe(403);
    expect((await postReports(server.url, [report("r", 2, 10, 0)], operator)).status).toBe(403);
  });
});
