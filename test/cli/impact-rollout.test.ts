// @module-tag e2e
// From a bad change to the revert pull request, end to end: the real `strata serve` (the built CLI) running
// rollouts with a rollout key, a canary of half the fleet after a real `strata push` from a git clone whose
// origin is a bare repository, the clients' health reports breaching the error-rate gate, the endpoint rolling
// back by itself; then `strata impact` says what the version changed and did (the gates' candidate-vs-control
// comparisons, before/after with intervals, the decision and why), and `strata rollback --open-revert` makes
// git agree, its commit message and the pull request's rollout comment carrying the decision's reason.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RolloutStatusDocument } from "../../src/core/protocol/index.js";
import { versionFor, type RolloutPlan } from "../../src/core/rollout/index.js";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, commitAll, git, tempdir, writeTree } from "../support/gitdir.js";
import { startFakeGitHub, type FakeGitHub } from "../support/github-server.js";
import { BASE_REPO } from "../support/repo-fixture.js";
import { readEvents } from "../support/server.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import { newKey } from "../support/snapshots.js";

const signing = newKey();
const rolloutKey = newKey();
const INSTANCES = Array.from({ length: 10 }, (_, i) => `api-${i}`);
const identity = {
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "Release Bot",
  GIT_AUTHOR_EMAIL: "release@example.com",
  GIT_COMMITTER_NAME: "Release Bot",
  GIT_COMMITTER_EMAIL: "release@example.com",
};

let origin: string;
let work: string;
let signingFile: string;
let serve: ServeProcess;
let github: FakeGitHub;
let badCommit: string;
const assigned = new Map<string, number>();

async function push(): Promise<void> {
  const r = await strata([
    "push",
    "--env",
    "production",
    "--endpoint",
    serve.url,
    "--signing-key",
    signingFile,
    "--repo",
    work,
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
}

async function read(instance: string, version: number): Promise<void> {
  const res = await fetch(`${serve.url}/v1/environments/production/snapshot`, {
    headers: { "strata-client": `service=api; instance=${instance}; version=${version}; kind=sdk` },
  });
  await res.body?.cancel();
  expect(res.status).toBe(200);
}

/** The rollout status once `done` holds; each wait is on the endpoint's own `rollout` event. */
async function rolloutWhen(done: (doc: RolloutStatusDocument) => boolean): Promise<RolloutStatusDocument> {
  const status = async () =>
    (await (await fetch(`${serve.url}/v1/environments/production/rollout`)).json()) as RolloutStatusDocument;
  let doc = await status();
  if (done(doc)) return doc;
  const controller = new AbortController();
  const res = await fetch(`${serve.url}/v1/events`, { signal: controller.signal });
  try {
    // Re-read after subscribing (the event may have come before), then on each rollout event.
    doc = await status();
    if (done(doc)) return doc;
    await readEvents(res, (events) => events.some((e) => e.event === "rollout" && /rolled-back/.test(e.data)), 60_000);
    return await status();
  } finally {
    controller.abort();
  }
}

beforeAll(async () => {
  const dir = tempdir();
  signingFile = join(dir, "signing.pem");
  writeFileSync(signingFile, signing.pem, { mode: 0o600 });
  const rolloutFile = join(dir, "rollout.pem");
  writeFileSync(rolloutFile, rolloutKey.pem, { mode: 0o600 });
  origin = join(dir, "origin.git");
  git(dir, "init", "-q", "--bare", "-b", "main", origin);
  work = join(dir, "work");
  git(dir, "clone", "-q", origin, work);
  writeTree(work, {
    ...BASE_REPO,
    "strata.yaml": [
      "version: 1",
      "environments:",
      "  base: { abstract: true }",
      "  staging: { parent: base }",
      "  production: { parent: base, production: true }",
      "signing:",
      `  trusted_keys: ["${signing.key.publicKey.text}"]`,
      "rollouts:",
      `  trusted_keys: ["${rolloutKey.key.publicKey.text}"]`,
      "  environments:",
      "    production:",
      "      canary: { percent: 50, bake: 1h }",
      "      gates:",
      "        - { metric: error-rate, max_increase: 2%, min_samples: 500 }",
      "        - { metric: latency, max_increase: 50ms, min_samples: 500 }",
      "",
    ].join("\n"),
  });
  commitAll(work, "production with a canary policy");
  git(work, "push", "-q", "origin", "main");
  serve = await spawnServe([
    "--store",
    `file:${join(dir, "store")}`,
    "--repo",
    work,
    "--rollout-key",
    rolloutFile,
    "--rollout-interval",
    "200ms",
  ]);
  await push(); // v1
  for (const i of INSTANCES) await read(i, 1);
  writeFileSync(join(work, "environments/production/app.yaml"), "replicas: 3\nmode: fast\n");
  badCommit = commitAll(work, "production: fast mode");
  git(work, "push", "-q", "origin", "main");
  await push(); // v2: the canary
  const plan = (await (await fetch(`${serve.url}/v1/environments/production/plan`)).json()) as RolloutPlan;
  for (const i of INSTANCES) {
    const version = versionFor(plan, { instance: i }).ref.version;
    assigned.set(i, version);
    await read(i, version);
  }
  github = await startFakeGitHub();
  github.state.pulls.set(12, {
    number: 12,
    author: "bob",
    state: "closed",
    merged: true,
    mergeCommitSha: badCommit,
    head: { sha: badCommit, ref: "fast-mode" },
    base: { sha: badCommit },
  });
  github.state.commitPulls.set(badCommit, [12]);
}, 180_000);

afterAll(async () => {
  await serve?.stop();
  await github?.close();
  cleanupTempdirs();
});

describe("a bad change, from the canary to the revert pull request", () => {
  it("impact during the canary: the keys, the clients on each version, the gates holding for samples", async () => {
    const r = await strata([
      "impact",
      "--env",
      "production",
      "--version",
      "2",
      "--endpoint",
      serve.url,
      "--repo",
      work,
      "--format",
      "json",
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      baseline: { version: 1, why: "rollout-stable" },
      keys: { changed: ["app.mode"], sensitive: [] },
      rollout: { phase: "progressing", percent: 5000, stable: 1, candidate: 2 },
      noRollout: null,
    });
    expect(report.clients.running).toHaveLength([...assigned.values()].filter((v) => v === 2).length);
  });

  it("the endpoint rolls back on the breach; impact names the metric, values, threshold, samples, interval", async () => {
    // One batch (the SDK sends one per instance): the decision sees every report or none, so its samples are known.
    const latency = { count: 1000, sum: 1000 * 40, sumSquares: 1000 * 40 * 40 + 1000 * 25 };
    const res = await fetch(`${serve.url}/v1/environments/production/reports`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        reports: [...assigned].map(([instance, version]) => ({
          instance,
          version,
          requests: 1000,
          errors: version === 2 ? 200 : 10,
          latency,
          intervalMs: 10_000,
        })),
      }),
    });
    expect(res.status).toBe(202);
    const doc = await rolloutWhen((d) => d.state?.phase === "rolled-back");
    expect(doc.state?.phase).toBe("rolled-back");

    const json = await strata([
      "impact",
      "--env",
      "production",
      "--version",
      "2",
      "--endpoint",
      serve.url,
      "--repo",
      work,
      "--format",
      "json",
    ]);
    expect(json.exitCode, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.rollout).toMatchObject({ phase: "rolled-back", stable: 1, candidate: 2 });
    expect(report.decision).toMatchObject({ action: "rollback", actor: "strata serve" });
    expect(report.decision.breaches).toEqual([
      expect.objectContaining({ gate: "error-rate", metric: "error-rate", value: 0.2, control: 0.01, threshold: 0.02 }),
    ]);
    const gate = report.metrics.find(
      (m: { comparison: string; name: string }) => m.comparison === "candidate-vs-control" && m.name === "error-rate",
    );
    expect(gate).toMatchObject({
      verdict: "breach",
      candidate: { version: 2, value: 0.2, samples: 5000 },
      control: { version: 1, value: 0.01, samples: 5000 },
    });
    expect(gate.interval[0]).toBeGreaterThan(0.02);
    const latencyGate = report.metrics.find(
      (m: { comparison: string; name: string }) => m.name === "latency" && m.comparison === "candidate-vs-control",
    );
    expect(latencyGate.verdict).toBe("pass");
    const beforeAfter = report.metrics.find(
      (m: { comparison: string; name: string }) => m.comparison === "before-after" && m.name === "error rate",
    );
    expect(beforeAfter).toMatchObject({ candidate: { version: 2, value: 0.2 }, control: { version: 1, value: 0.01 } });
    expect(beforeAfter.difference).toBeCloseTo(0.19, 10);
    expect(beforeAfter.interval[0]).toBeLessThan(0.19);
    expect(beforeAfter.interval[1]).toBeGreaterThan(0.19);

    const text = (
      await strata(["impact", "--env", "production", "--version", "2", "--endpoint", serve.url, "--repo", work])
    ).stdout;
    expect(text).toMatch(/^production v2 \(commit [0-9a-f]{12}\): ROLLED BACK$/m);
    expect(text).toMatch(
      /^ {2}gate error-rate: v2 20% vs v1 1% \(\+19 pts, interval \+\d+(\.\d+)? pts to \+\d+(\.\d+)? pts \(99(\.\d+)?%\)\); 5,000 \/ 5,000 samples; BREACH$/m,
    );
    expect(text).toMatch(/^decision: rollback at \S+ by strata serve: /m);
    expect(text).toMatch(/^ {2}breach: error rate 20% vs 1% /m);
  });

  it("rollback --open-revert: the revert pull request and the original's comment carry the decision's reason", async () => {
    const r = await strata(
      [
        "rollback",
        "--env",
        "production",
        "--to",
        "1",
        "--open-revert",
        "--signing-key",
        signingFile,
        "--endpoint",
        serve.url,
        "--repo",
        work,
      ],
      {
        env: { ...identity, GITHUB_TOKEN: "test-token", GITHUB_REPOSITORY: "acme/config", GITHUB_API_URL: github.url },
      },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^opened revert pull request #13: /m);
    const tip = git(origin, "rev-parse", "refs/heads/strata/revert-production-v2").trim();
    const message = git(origin, "log", "-1", "--format=%B", tip);
    expect(message).toContain(`This reverts commit ${badCommit}.`);
    expect(message).toMatch(/Why: .*error rate 20% vs 1%/);
    expect(git(origin, "show", `${tip}:environments/production/app.yaml`)).toBe("replicas: 3\n");
    const comment = github.state.comments.get(12)!.find((c) => c.body.includes("<!-- strata:rollout -->"))!;
    expect(comment.body).toMatch(/\*\*Why:\*\* .*error rate 20% vs 1%/);
    expect(comment.body).toContain("Revert pull request: #13");
  });
});
