// @module-tag e2e
// `strata rollback --open-revert` (docs/rollouts.md, "Git stays the truth"): the built CLI against the real
// `strata serve`, a real git clone whose origin is a bare repository, and the GitHub stand-in. After the
// rollback, the commit the rolled-back version was built from is reverted on a new branch pushed to origin,
// the revert pull request is opened, and the original pull request's rollout comment says what happened.
// Each failure (no GitHub configured, commit not found, revert conflicts) has its code and exit code, and
// never leaves the rollback half done.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, commitAll, git, tempdir, writeTree } from "../support/gitdir.js";
import { startFakeGitHub, type FakeGitHub } from "../support/github-server.js";
import { BASE_REPO } from "../support/repo-fixture.js";
import { GIT_IDENTITY, pushProduction } from "../support/rollout-e2e.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import { newKey } from "../support/snapshots.js";

const { key, pem } = newKey();
let origin: string;
let work: string;
let keyFile: string;
let serve: ServeProcess;
let github: FakeGitHub;
let mergeSha: string;

function githubEnv(): Record<string, string | undefined> {
  return { ...GIT_IDENTITY, GITHUB_TOKEN: "test-token", GITHUB_REPOSITORY: "acme/config", GITHUB_API_URL: github.url };
}

const push = (repo: string) => pushProduction(serve.url, keyFile, repo);

async function current(): Promise<number> {
  const res = await fetch(`${serve.url}/v1/environments/production/snapshot`);
  return ((await res.json()) as { version: number }).version;
}

const rollback = (to: number, env: Record<string, string | undefined>, format = "text") =>
  strata(
    [
      "rollback",
      "--env",
      "production",
      "--to",
      String(to),
      "--open-revert",
      "--signing-key",
      keyFile,
      "--endpoint",
      serve.url,
      "--repo",
      work,
      "--format",
      format,
    ],
    { env: { GITHUB_TOKEN: undefined, GH_TOKEN: undefined, GITHUB_REPOSITORY: undefined, ...env } },
  );

beforeAll(async () => {
  const dir = tempdir();
  keyFile = join(dir, "signing.pem");
  writeFileSync(keyFile, pem, { mode: 0o600 });
  origin = join(dir, "origin.git");
  git(dir, "init", "-q", "--bare", "-b", "main", origin);
  work = join(dir, "work");
  git(dir, "clone", "-q", origin, work);
  writeTree(work, {
    ...BASE_REPO,
    "strata.yaml": `version: 1\nenvironments:\n  base: { abstract: true }\n  staging: { parent: base }\n  production: { parent: base, production: true }\nsigning:\n  trusted_keys: ["${key.publicKey.text}"]\n`,
  });
  commitAll(work, "initial");
  git(work, "push", "-q", "origin", "main");
  serve = await spawnServe(["--store", `file:${join(dir, "store")}`, "--repo", work]);
  await push(work); // v1: three replicas

  // Pull request #7: seven replicas, merged with a merge commit.
  git(work, "checkout", "-q", "-b", "topic");
  writeFileSync(join(work, "environments/production/app.yaml"), "replicas: 7\n");
  const head = commitAll(work, "production: seven replicas");
  git(work, "checkout", "-q", "main");
  git(work, "merge", "-q", "--no-ff", "topic", "-m", "Merge pull request #7 from acme/topic");
  mergeSha = git(work, "rev-parse", "HEAD").trim();
  git(work, "push", "-q", "origin", "main");
  await push(work); // v2: built from the merge

  github = await startFakeGitHub();
  github.state.pulls.set(7, {
    number: 7,
    author: "alice",
    title: "production: seven replicas",
    state: "closed",
    merged: true,
    mergeCommitSha: mergeSha,
    head: { sha: head, ref: "topic" },
    base: { sha: mergeSha },
  });
  github.state.commitPulls.set(mergeSha, [7]);
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await github?.close();
  cleanupTempdirs();
});

describe("strata rollback --open-revert", () => {
  it("without GitHub configured refuses before rolling anything back", async () => {
    const noToken = await rollback(1, { ...GIT_IDENTITY, GITHUB_REPOSITORY: "acme/config" });
    expect(noToken.stderr).toMatch(/error \[unauthenticated\] GITHUB_TOKEN is not set/);
    expect(noToken.exitCode).toBe(4);
    const noRepo = await rollback(1, { ...GIT_IDENTITY, GITHUB_TOKEN: "test-token" });
    expect(noRepo.stderr).toMatch(/error \[invalid-argument\] which GitHub repository\? GITHUB_REPOSITORY is not set/);
    expect(noRepo.exitCode).toBe(2);
    expect(await current()).toBe(2);
  });

  it("rolls back, pushes the revert of the merge to origin, opens its pull request and comments on the original", async () => {
    const r = await rollback(1, githubEnv());
    expect(r.exitCode, r.stderr).toBe(0);
    expect(await current()).toBe(3);
    expect(r.stdout).toMatch(
      /^opened revert pull request #8: https:\/\/github\.com\/acme\/config\/pull\/8 \(branch strata\/revert-production-v2\)$/m,
    );
    expect(r.stdout).toMatch(/^said so on #7: /m);

    // The branch on origin: one commit on main's tip that undoes the merge.
    const branch = "refs/heads/strata/revert-production-v2";
    const tip = git(origin, "rev-parse", branch).trim();
    expect(git(origin, "rev-parse", `${tip}^`).trim()).toBe(git(origin, "rev-parse", "refs/heads/main").trim());
    expect(git(origin, "show", `${tip}:environments/production/app.yaml`)).toBe("replicas: 3\n");
    const message = git(origin, "log", "-1", "--format=%B", tip);
    expect(message).toContain('Revert "Merge pull request #7 from acme/topic"');
    expect(message).toContain(`This reverts commit ${mergeSha}.`);
    expect(message).toContain("strata rolled back production v2 (published as v3 with the content of v1)");
    expect(git(origin, "log", "-1", "--format=%an <%ae>", tip).trim()).toBe("Release Bot <release@example.com>");
    // The user's clone is as it was: same branch, same HEAD, no leftover worktree.
    expect(git(work, "rev-parse", "HEAD").trim()).toBe(mergeSha);
    expect(git(work, "worktree", "list").trim().split("\n")).toHaveLength(1);

    // The pull request, opened through GitHub's API.
    const created = github.state.requests.find((q) => q.method === "POST" && q.path === "/repos/acme/config/pulls");
    expect(created?.body).toMatchObject({
      title: 'Revert "Merge pull request #7 from acme/topic"',
      head: "strata/revert-production-v2",
      base: "main",
    });
    expect((created?.body as { body: string }).body).toContain(`This reverts commit ${mergeSha} of #7`);
    // The original pull request's rollout comment says what happened.
    const comment = github.state.comments.get(7)!.find((c) => c.body.includes("<!-- strata:rollout -->"))!;
    expect(comment.body).toContain("<!-- strata:section revert:production -->");
    expect(comment.body).toContain("Rolled back: <code>production</code> v2");
    expect(comment.body).toContain("Revert pull request: #8");

    const history = JSON.parse(
      (await strata(["history", "--env", "production", "--endpoint", serve.url, "--format", "json"])).stdout,
    );
    expect(history.versions[0]).toMatchObject({ version: 3, action: "rollback", rollbackOf: 1 });
  });

  it("a revert that conflicts with a later change: exit 1 (revert-conflict), the rollback published", async () => {
    writeFileSync(join(work, "environments/production/app.yaml"), "replicas: 9\n");
    commitAll(work, "production: nine replicas");
    git(work, "push", "-q", "origin", "main");
    await push(work); // v4, built from "nine replicas"
    writeFileSync(join(work, "environments/production/app.yaml"), "replicas: 10\n");
    commitAll(work, "production: ten replicas");
    git(work, "push", "-q", "origin", "main"); // not published: main moved on
    const r = await rollback(3, githubEnv(), "json");
    expect(r.exitCode, r.stderr).toBe(1);
    expect(r.stderr).toMatch(
      /error\[revert-conflict\]: the rollback is published, but no revert pull request was opened: the revert of [0-9a-f]{12} \("production: nine replicas"\) conflicts with origin's main in environments\/production\/app\.yaml/,
    );
    expect(r.stderr).not.toMatch(/\n\s+at /);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      ok: false,
      result: { status: "published", version: 5 },
      revert: { error: { code: "revert-conflict" } },
    });
    expect(await current()).toBe(5);
    expect(git(work, "status", "--porcelain")).toBe("");
    expect(git(work, "worktree", "list").trim().split("\n")).toHaveLength(1);
  });

  it("a commit that is neither in the clone nor on origin: exit 2 (unknown-ref), the rollback published", async () => {
    // v6 is published from a clone whose commit never reached origin.
    const scratch = join(tempdir(), "scratch");
    git(work, "clone", "-q", origin, scratch);
    writeFileSync(join(scratch, "environments/production/app.yaml"), "replicas: 4\n");
    const lost = commitAll(scratch, "production: four replicas, never pushed");
    await push(scratch);
    const r = await rollback(5, githubEnv());
    expect(r.stderr).toContain(
      `commit ${lost.slice(0, 12)}, which the rolled-back version was built from, is not in this repository or on origin's main`,
    );
    expect(r.exitCode).toBe(2);
    expect(await current()).toBe(7);
  });
});
