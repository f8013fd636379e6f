// @module-tag e2e
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { addReviews, startFakeGitHub, type FakeGitHub } from "../support/github-server.js";

const BASE = "a".repeat(40);
const HEAD = "b".repeat(40);
const RULES = `version: 1
environments:
  production: { production: true }
approvals:
  rules:
    - name: production
      when: { environments: ["production*"] }
      require: 2
      from: ["@acme/sre"]
  emergency: { label: config-emergency, require: 1 }
`;
const DIFF = {
  schemaVersion: 1,
  base: BASE,
  head: HEAD,
  changedLayers: [],
  environments: {
    production: {
      renamedFrom: null,
      status: "changed",
      production: true,
      changes: [
        {
          key: "http.timeout",
          change: "changed",
          before: 10,
          after: 20,
          sensitive: false,
          layer: null,
          flags: [],
          owner: null,
          approvers: [],
        },
      ],
      invalid: [],
    },
  },
};

let gh: FakeGitHub;
let dir: string;
let env: Record<string, string>;

beforeEach(async () => {
  gh = await startFakeGitHub();
  gh.state.files.set(BASE, { "strata.yaml": RULES });
  gh.state.teams.set("acme/sre", ["sre1", "sre2"]);
  gh.state.pulls.set(7, {
    number: 7,
    author: "dev",
    title: "Raise the timeout",
    head: { sha: HEAD },
    base: { sha: BASE },
  });
  dir = tempdir();
  writeFileSync(join(dir, "diff.json"), JSON.stringify(DIFF));
  writeFileSync(join(dir, "summary.md"), "");
  env = {
    GITHUB_TOKEN: "test-token",
    GITHUB_REPOSITORY: "acme/config",
    GITHUB_API_URL: gh.url,
    GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
    GITHUB_EVENT_PATH: "",
    GITHUB_RUN_ID: "",
  };
});
afterEach(() => gh.close());
afterAll(() => cleanupTempdirs());

const run = (args: string[], extra: Record<string, string> = {}) =>
  strata(["approvals", "check", "--diff", join(dir, "diff.json"), ...args], { cwd: dir, env: { ...env, ...extra } });

describe("strata approvals check", () => {
  it("exits 1 while insufficient, says who is still needed, writes the summary and the status", async () => {
    addReviews(gh.state, 7, [{ login: "sre1", state: "APPROVED", commitId: HEAD }]);
    const r = await run(["--pr", "7"]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain(
      "✗ production: needs 2 from @acme/sre; approved by @sre1; still needed: 1 more from @acme/sre",
    );
    expect(r.stdout).toContain("because of production: http.timeout");
    expect(r.stdout).toContain("waiting: needs 1 more from @acme/sre");
    expect(gh.state.statuses.get(HEAD)?.at(-1)).toMatchObject({
      state: "pending",
      context: "strata/approvals",
      description: "needs 1 more from @acme/sre",
    });
    expect(readFileSync(join(dir, "summary.md"), "utf8")).toContain(
      "| production | 2 from @acme/sre | @sre1 | needs 1 more from @acme/sre |",
    );
  });

  it("exits 0 once approved, in JSON", async () => {
    addReviews(gh.state, 7, [
      { login: "sre1", state: "APPROVED", commitId: HEAD },
      { login: "sre2", state: "APPROVED", commitId: HEAD },
    ]);
    const r = await run(["--pr", "7", "--format", "json"]);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as Record<string, unknown>;
    expect(doc).toMatchObject({
      schemaVersion: 1,
      met: true,
      state: "success",
      approvedBy: ["sre1", "sre2"],
      rulesRef: BASE,
      pullRequest: { number: 7, head: HEAD },
    });
  });

  it("takes the pull request from the Actions event and prints workflow commands", async () => {
    writeFileSync(join(dir, "event.json"), JSON.stringify({ action: "submitted", pull_request: { number: 7 } }));
    const r = await run([], { GITHUB_EVENT_PATH: join(dir, "event.json"), GITHUB_ACTIONS: "true" });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("::error title=strata/approvals::#7: needs 2 more from @acme/sre");
  });

  it("explains a 404 on team membership", async () => {
    gh.state.teams.clear();
    const r = await run(["--pr", "7"]);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain("[access-denied] cannot read the members of team @acme/sre");
    expect(r.stderr).toMatch(/hint: the GITHUB_TOKEN of Actions cannot read teams/);
    expect(gh.state.statuses.get(HEAD)?.at(-1)).toMatchObject({ state: "error" });
  });

  it("is an invocation error without a pull request or a token", async () => {
    expect((await run([])).exitCode).toBe(2);
    const noToken = await run(["--pr", "7"], { GITHUB_TOKEN: "" });
    expect(noToken.exitCode).toBe(4);
    expect(noToken.stderr).toContain("GITHUB_TOKEN is not set");
    expect((await run(["--pr", "x"])).exitCode).toBe(2);
  });
});

describe("with the diff engine, on a real repository", () => {
  it("gates and comments on what the pull request changes, from its merge-base", async () => {
    const { scaffoldFiles } = await import("../../src/app/init.js");
    const { commitAll, git, gitdir, writeTree } = await import("../support/gitdir.js");
    const repo = gitdir(scaffoldFiles("# workflow\n"));
    const start = git(repo, "rev-parse", "HEAD").trim();
    git(repo, "checkout", "-q", "-b", "topic");
    writeTree(repo, { "environments/production/app.yaml": "replicas: 5\nbase_url: https://app.example.com\n" });
    const head = commitAll(repo, "more replicas");
    git(repo, "checkout", "-q", "main");
    // main moves on after the branch started: its change must not be in the pull request's diff.
    writeTree(repo, {
      "environments/staging/app.yaml": "log_level: warn\nbase_url: https://staging.app.example.com\n",
    });
    const base = commitAll(repo, "quieter staging");

    gh.state.files.set(base, { "strata.yaml": readFileSync(join(repo, "strata.yaml"), "utf8") });
    gh.state.teams.set("your-org/sre", ["sre1"]);
    gh.state.pulls.set(8, { number: 8, author: "dev", head: { sha: head }, base: { sha: base } });
    const ghEnv = { ...env, GITHUB_STEP_SUMMARY: "" };

    const waiting = await strata(["approvals", "check", "--pr", "8", "--format", "json"], { cwd: repo, env: ghEnv });
    expect(waiting.stderr).toBe("");
    expect(waiting.exitCode).toBe(1);
    const doc = JSON.parse(waiting.stdout) as { changes: unknown[]; rules: { name: string; missing: number }[] };
    expect(doc.changes).toEqual([{ environment: "production", key: "app.replicas", sensitive: false }]);
    expect(doc.rules.map((r) => [r.name, r.missing])).toEqual([["production", 1]]);
    void start;

    const comment = await strata(["pr", "comment", "--pr", "8"], { cwd: repo, env: ghEnv });
    expect(comment.exitCode).toBe(0);
    const body = gh.state.comments.get(8)?.[0]?.body ?? "";
    expect(body).toContain("needs 1 more from @your-org/sre");
    expect(body).toContain("app.replicas");
    expect(body).not.toContain("log_level");

    addReviews(gh.state, 8, [{ login: "sre1", state: "APPROVED", commitId: head }]);
    const approved = await strata(["approvals", "check", "--pr", "8"], { cwd: repo, env: ghEnv });
    expect(approved.exitCode).toBe(0);
    expect(gh.state.statuses.get(head)?.at(-1)).toMatchObject({ state: "success", description: "approved by @sre1" });
  });
});
