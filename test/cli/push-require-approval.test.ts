// @module-tag e2e
// `strata push --require-approval` end to end (SPEC §8): the built CLI, a real git repository, the real
// endpoint, and GitHub's API served locally. An unapproved merge publishes nothing; an approved one
// publishes with the pull request and approvers in the snapshot's source.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { scaffoldFiles } from "../../src/app/init.js";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, commitAll, git, gitdir, writeTree } from "../support/gitdir.js";
import { addReviews, startFakeGitHub, type FakeGitHub } from "../support/github-server.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { newKey } from "../support/snapshots.js";

const { key, pem } = newKey();
let gh: FakeGitHub;
let server: TestServer;
beforeAll(async () => {
  gh = await startFakeGitHub();
  server = await startTestServer({ trustedKeys: [key.publicKey] });
});
afterAll(async () => {
  await server.server.close();
  await gh.close();
  cleanupTempdirs();
});

describe("push --require-approval", () => {
  it("refuses a merge whose pull request lacks approvals, then publishes it once approved", async () => {
    const files = scaffoldFiles("# workflow\n");
    files["strata.yaml"] = files["strata.yaml"]!.replace(
      "  trusted_keys: []",
      `  trusted_keys: ["${key.publicKey.text}"]`,
    );
    expect(files["strata.yaml"]).toContain(key.publicKey.text);
    const repo = gitdir(files);
    writeFileSync(join(repo, "..", "signing.pem"), pem, { mode: 0o600 });
    const base = git(repo, "rev-parse", "HEAD").trim();
    git(repo, "checkout", "-q", "-b", "topic");
    writeTree(repo, { "environments/production/app.yaml": "replicas: 5\nbase_url: https://app.example.com\n" });
    const head = commitAll(repo, "more replicas");
    git(repo, "checkout", "-q", "main");
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge pull request #10 from acme/topic", "topic");
    const merge = git(repo, "rev-parse", "HEAD").trim();
    gh.state.files.set(base, { "strata.yaml": readFileSync(join(repo, "strata.yaml"), "utf8") });
    gh.state.teams.set("your-org/sre", ["sre1"]);
    gh.state.branches.set("main", [base, merge]);
    gh.state.pulls.set(10, {
      number: 10,
      author: "dev",
      state: "closed",
      merged: true,
      mergeCommitSha: merge,
      head: { sha: head },
      base: { sha: base },
    });
    gh.state.commitPulls.set(merge, [10]);
    const env = {
      GITHUB_TOKEN: "test-token",
      GITHUB_REPOSITORY: "acme/config",
      GITHUB_API_URL: gh.url,
      STRATA_ENDPOINT: server.url,
      STRATA_SIGNING_KEY: pem,
    };
    const args = ["push", "--env", "production", "--require-approval", "--repo", repo, "--format", "json"];

    const refused = await strata(args, { env });
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain("approval-required");
    expect(refused.stderr).toContain("needs 1 more from @your-org/sre");
    expect((await fetch(`${server.url}/v1/environments/production/snapshot`)).status).toBe(404);

    addReviews(gh.state, 10, [{ login: "sre1", state: "APPROVED", commitId: head }]);
    const ok = await strata(args, { env });
    expect(ok.exitCode, ok.stderr).toBe(0);
    const snapshot = (await (await fetch(`${server.url}/v1/environments/production/snapshot`)).json()) as {
      source: Record<string, unknown>;
      config: { app: { replicas: number } };
    };
    expect(snapshot.source).toMatchObject({ commit: merge, pullRequest: 10, approvedBy: ["sre1"], emergency: false });
    expect(snapshot.config.app.replicas).toBe(5);

    // Uncommitted changes are never published under --require-approval.
    writeTree(repo, { "environments/production/app.yaml": "replicas: 9\nbase_url: https://app.example.com\n" });
    const dirty = await strata(args, { env });
    expect(dirty.exitCode).toBe(1);
    expect(dirty.stderr).toMatch(/uncommitted/);
  }, 120_000);
});
