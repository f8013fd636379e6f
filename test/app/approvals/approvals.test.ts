// @module-tag slow
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { checkApprovals } from "../../../src/app/approvals/check-approvals.js";
import { commentOnPullRequest } from "../../../src/app/approvals/comment.js";
import {
  createPublishGate,
  findLandingPullRequest,
  groupLandedChanges,
} from "../../../src/app/approvals/publish-gate.js";
import type { ChangesRequest, ComputeApprovalChanges } from "../../../src/app/approvals/evaluate-pull-request.js";
import type { ApprovalChange } from "../../../src/core/approvals/match.js";
import { STICKY_MARKER } from "../../../src/core/approvals/comment.js";
import { StrataError } from "../../../src/core/findings.js";
import type { Snapshot } from "../../../src/core/snapshot/index.js";
import { createGitHubApi, type GitHubApi, type PullRequestInfo } from "../../../src/io/github/api.js";
import type { CommitInfo } from "../../../src/io/git/history.js";
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

describe("the publish gate's attribution of commits to pull requests", () => {
  const pr = (number: number, over: Partial<PullRequestInfo> = {}): PullRequestInfo => ({
    number,
    title: "",
    author: "dev",
    state: "closed",
    draft: false,
    merged: true,
    mergedAt: "2026-01-02T00:00:00Z",
    mergeCommitSha: null,
    head: { sha: HEAD, ref: "topic" },
    base: { sha: BASE, ref: "main" },
    labels: [],
    htmlUrl: "",
    ...over,
  });
  const chain = new Set([MERGE, "e".repeat(40)]);

  it.each([
    ["its merge or squash commit", [pr(1, { mergeCommitSha: MERGE })], MERGE, 1],
    ["its head, on a fast-forward", [pr(2, { head: { sha: MERGE, ref: "t" } })], MERGE, 2],
    [
      "a commit in the middle of a rebase whose last commit is on the chain",
      [pr(3, { mergeCommitSha: "e".repeat(40) })],
      "f".repeat(40),
      3,
    ],
    ["not a pull request that was closed unmerged", [pr(4, { merged: false, mergeCommitSha: MERGE })], MERGE, null],
    [
      "not one merged into another branch",
      [pr(5, { mergeCommitSha: MERGE, base: { sha: BASE, ref: "dev" } })],
      MERGE,
      null,
    ],
    ["not one that landed elsewhere", [pr(6, { mergeCommitSha: "9".repeat(40) })], "f".repeat(40), null],
    [
      "the exact landing first",
      [pr(7, { mergeCommitSha: "e".repeat(40) }), pr(8, { mergeCommitSha: MERGE })],
      MERGE,
      8,
    ],
  ])("%s", (_name, pulls, commit, expected) => {
    expect(findLandingPullRequest(pulls, commit, "main", chain)?.number ?? null).toBe(expected);
  });

  it("groups consecutive commits of one pull request into one landed range", () => {
    const c = (sha: string, parent: string): CommitInfo => ({
      sha,
      parent,
      parents: [parent],
      author: "",
      email: "",
      date: "",
      subject: "",
      body: "",
      changes: [],
    });
    const [p1, p2] = [pr(1), pr(2)];
    const commits = [c("1", "0"), c("2", "1"), c("3", "2"), c("4", "3")];
    const landed = groupLandedChanges(
      commits,
      new Map([
        ["1", p1],
        ["2", p1],
        ["3", null],
        ["4", p2],
      ]),
    );
    expect(landed.map((l) => [l.pullRequest?.number ?? null, l.range])).toEqual([
      [1, { base: "0", head: "2" }],
      [null, { base: "2", head: "3" }],
      [2, { base: "3", head: "4" }],
    ]);
  });

  it("refuses a HEAD that is not on the default branch", async () => {
    const { git, gitdir } = await import("../../support/gitdir.js");
    const repo = gitdir({ "strata.yaml": RULES });
    const head = git(repo, "rev-parse", "HEAD").trim();
    gh.state.branches.set("main", [BASE]);
    const gate = createPublishGate({ github, repoDir: repo, head, computeChanges });
    const current = { version: 1, source: { commit: head, pullRequest: null, approvedBy: [] } } as unknown as Snapshot;
    const error = await gate.approve("production", current).catch((e: unknown) => e);
    gate.close();
    expect(error).toMatchObject({ code: "approval-required" });
    expect((error as Error).message).toContain("is not on the default branch main");
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
