// @module-tag e2e
// From a bad change to the revert pull request, end to end: the real `strata serve` (the built CLI) running
// rollouts with a rollout key, a canary of half the fleet after a real `strata push` from a git clone whose
// origin is a bare repository, the clients' health reports breaching the error-rate gate, the endpoint rolling
// back by itself; then `strata impact` says what the version changed and did (the gates' candidate-vs-control
// comparisons, before/after with intervals, the decision and why), and `strata rollback --open-revert` makes
// git agree, its commit message and the pull request's rollout comment carrying the decision's reason.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RolloutStatusDocument } from "../../src/core/protocol/index.js";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, git } from "../support/gitdir.js";
import { startFakeGitHub, type FakeGitHub } from "../support/github-server.js";
import { GIT_IDENTITY, startCanary } from "../support/rollout-e2e.js";
import { readEvents } from "../support/server.js";
import type { ServeProcess } from "../support/serve.js";

const INSTANCES = Array.from({ length: 10 }, (_, i) => `api-${i}`);

let origin: string;
let work: string;
let signingFile: string;
let serve: ServeProcess;
let github: FakeGitHub;
let badCommit: string;
let assigned: Map<string, number>;

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
  const canary = await startCanary({
    service: "api",
    instances: INSTANCES,
    gates: [
      "{ metric: error-rate, max_increase: 2%, min_samples: 500 }",
      "{ metric: latency, max_increase: 50ms, min_samples: 500 }",
    ],
    change: { text: "replicas: 3\nmode: fast\n", message: "production: fast mode" },
    withOrigin: true,
  });
  ({ serve, repo: work, signingFile, change: badCommit, assigned } = canary);
  origin = canary.origin!;
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
    // Before/after latency has its interval too: the endpoint's totals carry each version's latency summary.
    const latencyBeforeAfter = report.metrics.find(
      (m: { comparison: string; name: string }) => m.name === "latency" && m.comparison === "before-after",
    );
    expect(latencyBeforeAfter).toMatchObject({
      candidate: { version: 2, value: 40, samples: 5000 },
      control: { version: 1, value: 40, samples: 5000 },
      threshold: latencyGate.threshold,
      confidence: latencyGate.confidence,
    });
    expect(latencyBeforeAfter.difference).toBeCloseTo(0, 10);
    expect(latencyBeforeAfter.interval[0]).toBeLessThan(0);
    expect(latencyBeforeAfter.interval[1]).toBeGreaterThan(0);
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
        env: {
          ...GIT_IDENTITY,
          GITHUB_TOKEN: "test-token",
          GITHUB_REPOSITORY: "acme/config",
          GITHUB_API_URL: github.url,
        },
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
