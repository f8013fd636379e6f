// @module-tag slow
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkApprovals } from "../../../src/app/approvals/check-approvals.js";
import { commentOnPullRequest } from "../../../src/app/approvals/comment.js";
import { checkCommitApproved, requireCommitApproved } from "../../../src/app/approvals/commit-approved.js";
import type { ChangesRequest, ComputeApprovalChanges } from "../../../src/app/approvals/evaluate-pull-request.js";
import type { ApprovalChange } from "../../../src/core/approvals/match.js";
import { STICKY_MARKER } from "../../../src/core/approvals/comment.js";
import { StrataError } from "../../../src/core/findings.js";
import { createGitHubApi, type GitHubApi } from "../../../src/io/github/api.js";
import { createOctokit } from "../../../src/io/github/client.js";
import { addReviews, startFakeGitHub, type FakeGitHub } from "../../support/github-server.js";

const BASE = "a".repeat(40);
const HEAD = "b".repeat(40);
const OLD_HEAD = "0".repeat(40);
const MERGE = "c".repeat(40);

const RULES = `version: 1
environments:
  staging: {}
  production: { production: true }
approvals:
  rules:
    - name: production
      when: { environments: ["production*"] }
      require: 2
      from: ["@acme/sre"]
    - name: secrets
      when: { sensitive: true }
      require: 1
      from: ["@acme/security"]
  emergency: { label: config-emergency, require: 1 }
`;

let gh: FakeGitHub;
let github: GitHubApi;
let requests: ChangesRequest[];
let changes: ApprovalChange[];
const computeChanges: ComputeApprovalChanges = async (r) => {
  requests.push(r);
  return changes;
};

beforeEach(async () => {
  gh = await startFakeGitHub();
  // Throttling (its 1 s between writes) is tested in test/io/github; here it would only slow the run.
  github = createGitHubApi(await createOctokit({ token: "test-token", apiUrl: gh.url, throttle: { enabled: false } }), {
    owner: "acme",
    repo: "config",
  });
  requests = [];
  changes = [{ environment: "production", key: "http.timeout", sensitive: false, approvers: [] }];
  gh.state.files.set(BASE, { "strata.yaml": RULES });
  // The head tries to lower its own bar: it must not matter.
  gh.state.files.set(HEAD, { "strata.yaml": "version: 1\nenvironments: {}\napprovals: { rules: [] }\n" });
  gh.state.teams.set("acme/sre", ["sre1", "sre2", "dev"]);
  gh.state.teams.set("acme/security", ["sec1"]);
  gh.state.pulls.set(7, {
    number: 7,
    author: "dev",
    head: { sha: HEAD },
    base: { sha: BASE },
    files: ["environments/production/http.yaml", "strata.yaml"],
  });
});
afterEach(() => gh.close());

const status = () => gh.state.statuses.get(HEAD)?.at(-1);

describe("checkApprovals", () => {
  it("approvals met: success status on the head commit, rules from the base", async () => {
    addReviews(gh.state, 7, [
      { login: "sre1", state: "APPROVED", commitId: HEAD },
      { login: "sre2", state: "APPROVED", commitId: HEAD },
    ]);
    const report = await checkApprovals({
      github,
      pullRequest: 7,
      repoDir: "/repo",
      computeChanges,
      targetUrl: "https://example/run/1",
    });
    expect(report.decision.met).toBe(true);
    expect(report.rulesRef).toBe(BASE);
    expect(requests).toEqual([{ repoDir: "/repo", base: BASE, head: HEAD }]);
    expect(report.changes[0]).toMatchObject({ production: true, approvalRequired: true });
    expect(report.gateFilesChanged).toEqual(["strata.yaml"]);
    expect(status()).toMatchObject({
      state: "success",
      context: "strata/approvals",
      description: "approved by @sre1, @sre2",
      target_url: "https://example/run/1",
    });
    expect(gh.state.requests.find((r) => r.path.endsWith("/contents/strata.yaml"))?.query.get("ref")).toBe(BASE);
  });

  it("a required team missing: pending, naming who is still needed", async () => {
    changes = [{ environment: "production", key: "db.password", sensitive: true, approvers: [] }];
    addReviews(gh.state, 7, [
      { login: "sre1", state: "APPROVED", commitId: HEAD },
      { login: "sre2", state: "APPROVED", commitId: HEAD },
    ]);
    const report = await checkApprovals({ github, pullRequest: 7, repoDir: "/repo", computeChanges });
    expect(report.decision.rules.map((r) => [r.name, r.met])).toEqual([
      ["production", true],
      ["secrets", false],
    ]);
    expect(status()).toMatchObject({ state: "pending", description: "needs 1 more from @acme/security" });
  });

  it("the author approving their own pull request does not count, even as a team member", async () => {
    addReviews(gh.state, 7, [
      { login: "dev", state: "APPROVED", commitId: HEAD },
      { login: "sre1", state: "APPROVED", commitId: HEAD },
    ]);
    const report = await checkApprovals({ github, pullRequest: 7, repoDir: "/repo", computeChanges });
    expect(report.decision.met).toBe(false);
    expect(status()?.description).toBe("needs 1 more from @acme/sre");
  });

  it("CHANGES_REQUESTED then approved", async () => {
    addReviews(gh.state, 7, [
      { login: "sre1", state: "CHANGES_REQUESTED", commitId: OLD_HEAD },
      { login: "sre2", state: "APPROVED", commitId: HEAD },
    ]);
    expect((await checkApprovals({ github, pullRequest: 7, repoDir: "/r", computeChanges })).decision.state).toBe(
      "failure",
    );
    expect(status()?.description).toBe("changes requested by @sre1");
    addReviews(gh.state, 7, [{ login: "sre1", state: "APPROVED", commitId: HEAD }]);
    expect((await checkApprovals({ github, pullRequest: 7, repoDir: "/r", computeChanges })).decision.state).toBe(
      "success",
    );
  });

  it("a dismissed review", async () => {
    addReviews(gh.state, 7, [
      { login: "sre1", state: "APPROVED", commitId: HEAD },
      { login: "sre2", state: "DISMISSED", commitId: HEAD },
    ]);
    const report = await checkApprovals({ github, pullRequest: 7, repoDir: "/r", computeChanges });
    expect(report.decision.approvedBy).toEqual(["sre1"]);
    expect(status()?.state).toBe("pending");
  });

  it("a stale approval after a new push", async () => {
    addReviews(gh.state, 7, [
      { login: "sre1", state: "APPROVED", commitId: OLD_HEAD },
      { login: "sre2", state: "APPROVED", commitId: HEAD },
    ]);
    const report = await checkApprovals({ github, pullRequest: 7, repoDir: "/r", computeChanges });
    expect(report.decision.reviewers.find((r) => r.login === "sre1")).toMatchObject({ counts: false, reason: "stale" });
    expect(status()).toMatchObject({ state: "pending", description: "needs 1 more from @acme/sre" });
  });

  it("the emergency label", async () => {
    gh.state.pulls.get(7)!.labels = ["config-emergency"];
    addReviews(gh.state, 7, [{ login: "sre1", state: "APPROVED", commitId: HEAD }]);
    const report = await checkApprovals({ github, pullRequest: 7, repoDir: "/r", computeChanges });
    expect(report.decision.emergency).toEqual({ label: "config-emergency", require: 1, active: true });
    expect(status()).toMatchObject({
      state: "success",
      description: "emergency (config-emergency): approved by @sre1",
    });
  });

  it("more than 100 reviews", async () => {
    addReviews(gh.state, 7, [
      { login: "sre1", state: "APPROVED", commitId: HEAD },
      ...Array.from({ length: 150 }, (_, i) => ({ login: `watcher${i}`, state: "COMMENTED", commitId: HEAD })),
      { login: "sre2", state: "APPROVED", commitId: HEAD },
    ]);
    expect((await checkApprovals({ github, pullRequest: 7, repoDir: "/r", computeChanges })).decision.met).toBe(true);
  });

  it("a 404 on team membership is explained and leaves an error status", async () => {
    gh.state.teams.delete("acme/sre");
    const error = await checkApprovals({ github, pullRequest: 7, repoDir: "/r", computeChanges }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(StrataError);
    expect((error as StrataError).hint).toMatch(/read:org/);
    expect(status()).toMatchObject({ state: "error", context: "strata/approvals" });
    expect(String(status()?.description)).toMatch(/@acme\/sre/);
  });

  it("fails closed on invalid rules in the base's strata.yaml", async () => {
    gh.state.files.set(BASE, { "strata.yaml": "approvals:\n  rules:\n    - require: two\n" });
    const report = await checkApprovals({ github, pullRequest: 7, repoDir: "/r", computeChanges });
    // Found by the one strata.yaml reader (its schema), located in the base's file.
    expect(report.findings.map((f) => [f.code, f.key, f.line, f.column])).toEqual([
      ["missing-required", "approvals.rules.0", 3, 7],
      ["invalid-type", "approvals.rules.0.require", 3, 16],
    ]);
    expect(status()).toMatchObject({ state: "failure", description: "invalid approvals in strata.yaml on main" });
  });

  it("does not count a drive-by approval from outside the repository for an any-reviewer requirement", async () => {
    gh.state.files.set(BASE, { "strata.yaml": "version: 1\nenvironments:\n  prod: { production: true }\n" });
    changes = [{ environment: "prod", key: "a.b", sensitive: false, approvers: [] }];
    addReviews(gh.state, 7, [{ login: "stranger", state: "APPROVED", commitId: HEAD, association: "NONE" }]);
    expect((await checkApprovals({ github, pullRequest: 7, repoDir: "/r", computeChanges })).decision.met).toBe(false);
  });

  it("requires one approval in a production environment no rule names", async () => {
    gh.state.files.set(BASE, { "strata.yaml": "version: 1\nenvironments:\n  prod: { production: true }\n" });
    changes = [{ environment: "prod", key: "a.b", sensitive: false, approvers: [] }];
    const report = await checkApprovals({ github, pullRequest: 7, repoDir: "/r", computeChanges });
    expect(report.decision.rules.map((r) => r.origin)).toEqual(["approval-required"]);
    expect(status()?.description).toBe("needs 1 more approval");
  });
});

describe("commentOnPullRequest", () => {
  it("posts the approvals and the diff once, then updates the same comment in place", async () => {
    const md = { text: "## Diff\n| env | changes |\n|---|---|\n| production | 1 |\n" };
    const renderDiffMarkdown = async () => md.text;
    const first = await commentOnPullRequest({
      github,
      pullRequest: 7,
      repoDir: "/r",
      renderDiffMarkdown,
      computeChanges,
    });
    expect(first.action).toBe("created");
    expect(first.comment.body.startsWith(STICKY_MARKER)).toBe(true);
    expect(first.comment.body).toContain("needs 2 more from @acme/sre");
    expect(first.comment.body).toContain("| production | 1 |");
    md.text = "## Diff\n| env | changes |\n|---|---|\n| production | 2 |\n";
    const second = await commentOnPullRequest({
      github,
      pullRequest: 7,
      repoDir: "/r",
      renderDiffMarkdown,
      computeChanges,
    });
    expect(second).toMatchObject({ action: "updated", comment: { id: first.comment.id } });
    expect(
      (await commentOnPullRequest({ github, pullRequest: 7, repoDir: "/r", renderDiffMarkdown, computeChanges }))
        .action,
    ).toBe("unchanged");
    expect(gh.state.comments.get(7)).toHaveLength(1);
  });

  it("still comments when the token cannot read teams, and says so", async () => {
    gh.state.teams.clear();
    const r = await commentOnPullRequest({
      github,
      pullRequest: 7,
      repoDir: "/r",
      renderDiffMarkdown: async () => "diff",
      computeChanges,
    });
    expect(r.comment.body).toMatch(/Team membership of @acme\/sre is not readable/);
  });
});

describe("checkCommitApproved (push --require-approval)", () => {
  beforeEach(() => {
    gh.state.branches.set("main", [BASE, MERGE]);
    gh.state.pulls.set(9, {
      number: 9,
      author: "dev",
      state: "closed",
      merged: true,
      mergeCommitSha: MERGE,
      head: { sha: HEAD },
      base: { sha: BASE },
      labels: [],
    });
    gh.state.commitPulls.set(MERGE, [9]);
  });

  it("accepts a merge commit of an approved pull request, with what the snapshot's source needs", async () => {
    addReviews(gh.state, 9, [
      { login: "sre1", state: "APPROVED", commitId: HEAD },
      { login: "sre2", state: "APPROVED", commitId: HEAD },
    ]);
    const r = await requireCommitApproved({ github, commit: MERGE, repoDir: "/r", computeChanges });
    expect(r).toMatchObject({ approved: true, pullRequest: 9, approvedBy: ["sre1", "sre2"], emergency: false });
    // What landed: the merge commit against its first parent.
    expect(requests).toEqual([{ repoDir: "/r", base: `${MERGE}^1`, head: MERGE }]);
  });

  it("refuses a push of a commit from an unapproved pull request", async () => {
    addReviews(gh.state, 9, [{ login: "sre1", state: "APPROVED", commitId: HEAD }]);
    const r = await checkCommitApproved({ github, commit: MERGE, repoDir: "/r", computeChanges });
    expect(r).toMatchObject({ approved: false, reason: "insufficient-approvals", pullRequest: 9 });
    const error = await requireCommitApproved({ github, commit: MERGE, repoDir: "/r", computeChanges }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "approval-required", exitCode: 1 });
    expect((error as Error).message).toContain("#9");
  });

  it("records an emergency merge", async () => {
    gh.state.pulls.get(9)!.labels = ["config-emergency"];
    addReviews(gh.state, 9, [{ login: "sre1", state: "APPROVED", commitId: HEAD }]);
    expect(await checkCommitApproved({ github, commit: MERGE, repoDir: "/r", computeChanges })).toMatchObject({
      approved: true,
      emergency: true,
      approvedBy: ["sre1"],
    });
  });

  it("refuses a commit that is not on the default branch", async () => {
    expect(await checkCommitApproved({ github, commit: HEAD, repoDir: "/r", computeChanges })).toMatchObject({
      approved: false,
      reason: "not-on-default-branch",
    });
  });

  it("refuses a commit pushed straight to the default branch", async () => {
    const direct = "d".repeat(40);
    gh.state.branches.set("main", [BASE, MERGE, direct]);
    expect(await checkCommitApproved({ github, commit: direct, repoDir: "/r", computeChanges })).toMatchObject({
      approved: false,
      reason: "no-merged-pull-request",
    });
  });

  it("refuses a commit whose pull request was closed without merging", async () => {
    gh.state.pulls.get(9)!.merged = false;
    expect(await checkCommitApproved({ github, commit: MERGE, repoDir: "/r", computeChanges })).toMatchObject({
      approved: false,
      reason: "no-merged-pull-request",
    });
  });
});

describe("approvePush", () => {
  it("diffs what the merge brought in, with the real diff engine", async () => {
    const { approvePush } = await import("../../../src/app/approvals/commit-approved.js");
    const { scaffoldFiles } = await import("../../../src/app/init.js");
    const { commitAll, git, gitdir, writeTree } = await import("../../support/gitdir.js");
    const repo = gitdir(scaffoldFiles("# workflow\n"));
    const base = git(repo, "rev-parse", "HEAD").trim();
    git(repo, "checkout", "-q", "-b", "topic");
    writeTree(repo, { "environments/production/app.yaml": "replicas: 5\nbase_url: https://app.example.com\n" });
    const head = commitAll(repo, "more replicas");
    git(repo, "checkout", "-q", "main");
    git(repo, "merge", "-q", "--no-ff", "-m", "Merge #10", "topic");
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
    const env = { GITHUB_TOKEN: "test-token", GITHUB_REPOSITORY: "acme/config", GITHUB_API_URL: gh.url };
    const refused = await approvePush({ commit: merge, repoDir: repo, env }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "approval-required" });
    expect((refused as Error).message).toContain("needs 1 more from @your-org/sre");
    addReviews(gh.state, 10, [{ login: "sre1", state: "APPROVED", commitId: head }]);
    expect(await approvePush({ commit: merge, repoDir: repo, env })).toEqual({
      pullRequest: 10,
      approvedBy: ["sre1"],
      emergency: false,
    });
  });

  it("connects from the environment and returns the snapshot source fields", async () => {
    const { approvePush } = await import("../../../src/app/approvals/commit-approved.js");
    gh.state.branches.set("main", [BASE, MERGE]);
    gh.state.pulls.set(9, {
      number: 9,
      author: "dev",
      state: "closed",
      merged: true,
      mergeCommitSha: MERGE,
      head: { sha: HEAD },
      base: { sha: BASE },
      labels: [],
    });
    gh.state.commitPulls.set(MERGE, [9]);
    addReviews(gh.state, 9, [
      { login: "sre1", state: "APPROVED", commitId: HEAD },
      { login: "sre2", state: "APPROVED", commitId: HEAD },
    ]);
    const env = { GITHUB_TOKEN: "test-token", GITHUB_REPOSITORY: "acme/config", GITHUB_API_URL: gh.url };
    expect(await approvePush({ commit: MERGE, repoDir: "/r", env, computeChanges })).toEqual({
      pullRequest: 9,
      approvedBy: ["sre1", "sre2"],
      emergency: false,
    });
  });
});

describe("the linked diff", () => {
  it("keeps the base's x-approvers when the pull request drops them and changes the value", async () => {
    const { createLinkedDiff } = await import("../../../src/app/approvals/diff-seam.js");
    const { scaffoldFiles } = await import("../../../src/app/init.js");
    const { commitAll, git, gitdir, writeTree } = await import("../../support/gitdir.js");
    const files = scaffoldFiles("# workflow\n");
    const schema = files["schemas/app.schema.yaml"]!;
    const owned = schema.replace(
      "    x-restart-required: true\n",
      '    x-restart-required: true\n    x-approvers: ["@acme/capacity"]\n',
    );
    expect(owned).not.toBe(schema);
    const repo = gitdir({ ...files, "schemas/app.schema.yaml": owned });
    const base = git(repo, "rev-parse", "HEAD").trim();
    writeTree(repo, {
      "schemas/app.schema.yaml": schema,
      "environments/production/app.yaml": "replicas: 9\nbase_url: https://app.example.com\n",
    });
    const head = commitAll(repo, "quietly more replicas");
    const found = await createLinkedDiff().computeChanges({ repoDir: repo, base, head });
    expect(found.find((c) => c.environment === "production" && c.key === "app.replicas")?.approvers).toEqual([
      "@acme/capacity",
    ]);
  });
});
