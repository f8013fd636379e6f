import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { COMMENT_LIMIT, STICKY_MARKER } from "../../../src/core/approvals/comment.js";
import { StrataError } from "../../../src/core/findings.js";
import { ACTIONS_BOT_LOGIN, createGitHubApi, type GitHubApi } from "../../../src/io/github/api.js";
import { createOctokit } from "../../../src/io/github/client.js";
import { readEventPullRequest, readGitHubEnvironment, readMergeGroupHead } from "../../../src/io/github/env.js";
import { upsertStickyComment } from "../../../src/io/github/sticky.js";
import { addReviews, startFakeGitHub, type FakeGitHub } from "../../support/github-server.js";

let gh: FakeGitHub;
const warnings: string[] = [];

async function api(token = "test-token"): Promise<GitHubApi> {
  const octokit = await createOctokit({ token, apiUrl: gh.url, warn: (m) => warnings.push(m) });
  return createGitHubApi(octokit, { owner: "acme", repo: "config" });
}

beforeEach(async () => {
  warnings.length = 0;
  gh = await startFakeGitHub();
  gh.state.pulls.set(7, {
    number: 7,
    author: "dev",
    head: { sha: "b".repeat(40) },
    base: { sha: "a".repeat(40) },
    labels: ["config-emergency"],
    files: ["environments/production/http.yaml"],
  });
});
afterEach(() => gh.close());

describe("GitHub adapter against the local API server", () => {
  it("reads a pull request", async () => {
    const pr = await (await api()).getPullRequest(7);
    expect(pr).toMatchObject({
      number: 7,
      author: "dev",
      state: "open",
      merged: false,
      head: { sha: "b".repeat(40), ref: "topic" },
      base: { sha: "a".repeat(40), ref: "main" },
      labels: ["config-emergency"],
    });
  });

  it("paginates more than 100 reviews and comments", async () => {
    addReviews(
      gh.state,
      7,
      Array.from({ length: 230 }, (_, i) => ({
        login: `r${i}`,
        state: i % 2 ? "APPROVED" : "COMMENTED",
        commitId: "b".repeat(40),
      })),
    );
    gh.state.comments.set(
      7,
      Array.from({ length: 150 }, (_, i) => ({ id: i + 1, login: "someone", body: `comment ${i}` })),
    );
    const a = await api();
    const reviews = await a.listReviews(7);
    expect(reviews).toHaveLength(230);
    expect(reviews[229]).toMatchObject({ id: 230, login: "r229", state: "APPROVED", commitId: "b".repeat(40) });
    expect(await a.listIssueComments(7)).toHaveLength(150);
    const pages = gh.state.requests.filter((r) => r.path.endsWith("/reviews")).map((r) => r.query.get("page"));
    expect(pages).toEqual([null, "2", "3"]);
    expect(gh.state.requests.filter((r) => r.path.endsWith("/comments"))).toHaveLength(2);
  });

  it("answers a secondary rate limit by waiting retry-after and retrying", async () => {
    gh.failWithSecondaryRateLimit("GET", /\/pulls\/7\/reviews$/, 1);
    addReviews(gh.state, 7, [{ login: "sre1", state: "APPROVED", commitId: "b".repeat(40) }]);
    const started = Date.now();
    const reviews = await (await api()).listReviews(7);
    expect(reviews.map((r) => r.login)).toEqual(["sre1"]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
    expect(gh.calls().filter((c) => c.endsWith("/reviews"))).toHaveLength(2);
    expect(warnings.join("\n")).toMatch(/secondary rate limit .* retrying after 1s/);
  });

  it("retries a server error once it answers again", async () => {
    gh.state.failures.push({
      method: "GET",
      path: /\/pulls\/7$/,
      status: 502,
      body: { message: "Server Error" },
      times: 1,
    });
    expect((await (await api()).getPullRequest(7)).number).toBe(7);
    expect(gh.calls().filter((c) => c.endsWith("/pulls/7"))).toHaveLength(2);
  });

  it("gives up at once on a primary rate limit that resets later than a job should wait, and says so", async () => {
    gh.state.failures.push({
      method: "GET",
      path: /\/pulls\/7$/,
      status: 403,
      body: {
        message: "API rate limit exceeded for installation ID 1.",
        documentation_url: "https://docs.github.com/rest",
      },
      headers: { "x-ratelimit-remaining": "0", "x-ratelimit-reset": String(Math.floor(Date.now() / 1000) + 3600) },
      times: 1,
    });
    const error = await (await api()).getPullRequest(7).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StrataError);
    expect((error as StrataError).code).toBe("unreachable");
    expect((error as StrataError).message).toMatch(/rate limit stopped strata while reading pull request #7/);
    expect(warnings.join("\n")).toMatch(/GitHub primary rate limit on GET .*\/pulls\/7; giving up/);
    expect(gh.calls().filter((c) => c.endsWith("/pulls/7"))).toHaveLength(1);
  });

  it("explains a 404 on team members instead of reading it as 'not a member'", async () => {
    gh.state.teams.set("acme/sre", ["sre1"]);
    const a = await api();
    expect(await a.listTeamMembers("@acme/sre")).toEqual(["sre1"]);
    const error = await a.listTeamMembers("@acme/security").catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StrataError);
    expect((error as StrataError).code).toBe("access-denied");
    expect((error as StrataError).message).toContain("@acme/security");
    expect((error as StrataError).hint).toMatch(/GITHUB_TOKEN of Actions cannot read teams.*App token.*read:org/);
  });

  it("paginates the pull request's files", async () => {
    gh.state.pulls.get(7)!.files = Array.from({ length: 250 }, (_, i) => `environments/e${i}/app.yaml`);
    const files = await (await api()).listChangedFiles(7);
    expect(files).toHaveLength(250);
    expect(files[249]).toBe("environments/e249/app.yaml");
  });

  it("paginates team members", async () => {
    gh.state.teams.set(
      "acme/big",
      Array.from({ length: 250 }, (_, i) => `m${i}`),
    );
    expect(await (await api()).listTeamMembers("@acme/big")).toHaveLength(250);
  });

  it("reads a file at a commit, null when absent", async () => {
    gh.state.files.set("a".repeat(40), { "strata.yaml": "version: 1\napprovals: {}\n" });
    const a = await api();
    expect(await a.readFile("strata.yaml", "a".repeat(40))).toBe("version: 1\napprovals: {}\n");
    expect(await a.readFile("strata.yaml", "b".repeat(40))).toBeNull();
    expect(gh.state.requests.at(-1)?.query.get("ref")).toBe("b".repeat(40));
  });

  it("sets a commit status", async () => {
    await (
      await api()
    ).setCommitStatus("b".repeat(40), {
      state: "pending",
      context: "strata/approvals",
      description: "needs 1 more from @acme/sre",
    });
    expect(gh.state.statuses.get("b".repeat(40))?.[0]).toMatchObject({
      state: "pending",
      context: "strata/approvals",
      description: "needs 1 more from @acme/sre",
    });
  });

  it("knows its own login, and the Actions token's", async () => {
    expect(await (await api()).getOwnLogin()).toBe("strata-bot");
    gh.state.tokens["actions-token"] = null;
    expect(await (await api("actions-token")).getOwnLogin()).toBe(ACTIONS_BOT_LOGIN);
  });

  it("maps a bad token to unauthenticated", async () => {
    const error = await (await api("nope")).getPullRequest(7).catch((e: unknown) => e);
    expect((error as StrataError).code).toBe("unauthenticated");
  });

  it("lists a commit's pull requests and whether it is on a branch", async () => {
    gh.state.pulls.set(8, {
      number: 8,
      author: "dev",
      state: "closed",
      merged: true,
      mergeCommitSha: "c".repeat(40),
      head: { sha: "d".repeat(40) },
      base: { sha: "a".repeat(40) },
    });
    gh.state.commitPulls.set("c".repeat(40), [8]);
    gh.state.branches.set("main", ["a".repeat(40), "c".repeat(40), "e".repeat(40)]);
    gh.state.branches.set("topic", ["f".repeat(40)]);
    const a = await api();
    expect((await a.listPullRequestsForCommit("c".repeat(40))).map((p) => [p.number, p.merged])).toEqual([[8, true]]);
    expect(await a.getDefaultBranch()).toBe("main");
    expect(await a.isCommitOnBranch("c".repeat(40), "main")).toBe(true);
    expect(await a.isCommitOnBranch("e".repeat(40), "main")).toBe(true);
    expect(await a.isCommitOnBranch("f".repeat(40), "main")).toBe(false);
    expect(await a.isCommitOnBranch("9".repeat(40), "main")).toBe(false);
  });
});

describe("sticky comment", () => {
  it("is created once, updated in place, and not re-posted when unchanged", async () => {
    const a = await api();
    // Someone quoting the marker, and another bot's comment, are never touched.
    gh.state.comments.set(7, [
      { id: 1, login: "dev", body: `look: ${STICKY_MARKER}` },
      { id: 2, login: "other-bot", body: `${STICKY_MARKER}\nnot ours` },
    ]);
    const first = await upsertStickyComment(a, 7, ["## diff v1", "approvals"]);
    expect(first.action).toBe("created");
    const second = await upsertStickyComment(a, 7, ["## diff v2", "approvals"]);
    expect(second).toMatchObject({ action: "updated", comment: { id: first.comment.id } });
    const writesBefore = gh.state.requests.filter((r) => r.method !== "GET").length;
    const third = await upsertStickyComment(a, 7, ["## diff v2", "approvals"]);
    expect(third.action).toBe("unchanged");
    expect(gh.state.requests.filter((r) => r.method !== "GET").length).toBe(writesBefore);
    const comments = gh.state.comments.get(7)!;
    expect(comments).toHaveLength(3);
    expect(comments.filter((c) => c.login === "strata-bot").map((c) => c.body)).toEqual([
      `${STICKY_MARKER}\n## diff v2\n\napprovals\n`,
    ]);
    expect(comments[1]?.body).toBe(`${STICKY_MARKER}\nnot ours`);
  });

  it("finds its comment among more than 100", async () => {
    const many = Array.from({ length: 130 }, (_, i) => ({ id: i + 1, login: "dev", body: `c${i}` }));
    gh.state.comments.set(7, [...many, { id: 500, login: "strata-bot", body: `${STICKY_MARKER}\nold\n` }]);
    const r = await upsertStickyComment(await api(), 7, "new");
    expect(r).toMatchObject({ action: "updated", comment: { id: 500 } });
    expect(gh.state.comments.get(7)).toHaveLength(131);
  });

  it("uses github-actions[bot] as the Actions token's login", async () => {
    gh.state.tokens["actions-token"] = null;
    gh.state.comments.set(7, [{ id: 9, login: "github-actions[bot]", body: `${STICKY_MARKER}\nold\n` }]);
    const r = await upsertStickyComment(await api("actions-token"), 7, "new");
    expect(r).toMatchObject({ action: "updated", comment: { id: 9 } });
  });

  it("stays under GitHub's 65,536-character limit", async () => {
    const huge = ["approvals", "<details>\n\n```diff\n" + "+ x\n".repeat(30_000) + "```\n</details>"];
    const r = await upsertStickyComment(await api(), 7, huge);
    expect(r.comment.body.length).toBeLessThan(COMMENT_LIMIT);
    expect(r.comment.body).toMatch(/Truncated/);
    expect(r.comment.body.match(/```/g)?.length).toBe(2);
    expect(r.comment.body).toContain("</details>");
  });
});

describe("Actions environment", () => {
  it("reads the variables", () => {
    const env = readGitHubEnvironment({
      GITHUB_TOKEN: "t",
      GITHUB_REPOSITORY: "acme/config",
      GITHUB_API_URL: "http://x/api/v3",
      GITHUB_ACTIONS: "true",
    });
    expect(env).toMatchObject({
      token: "t",
      repository: { owner: "acme", repo: "config" },
      apiUrl: "http://x/api/v3",
      actions: true,
      eventPath: null,
    });
    expect(readGitHubEnvironment({}).apiUrl).toBe("https://api.github.com");
  });

  it.each([
    ["pull_request", { action: "synchronize", number: 12, pull_request: { number: 12 } }, 12],
    ["pull_request_review", { action: "submitted", review: { state: "approved" }, pull_request: { number: 13 } }, 13],
    ["issue_comment", { action: "created", issue: { number: 14, pull_request: { url: "x" } } }, 14],
    ["push", { ref: "refs/heads/main" }, null],
    [
      "merge_group",
      {
        action: "checks_requested",
        merge_group: {
          head_sha: "c".repeat(40),
          head_ref: `refs/heads/gh-readonly-queue/main/pr-15-${"b".repeat(40)}`,
        },
      },
      15,
    ],
    ["merge_group of another shape", { merge_group: { head_sha: "c".repeat(40), head_ref: "refs/heads/main" } }, null],
  ])("finds the pull request of a %s event", async (_name, payload, expected) => {
    const dir = mkdtempSync(join(tmpdir(), "strata-event-"));
    writeFileSync(join(dir, "event.json"), JSON.stringify(payload));
    expect(await readEventPullRequest(join(dir, "event.json"))).toBe(expected);
  });

  it("finds the commit a merge queue tests, and only in a merge_group event", async () => {
    const dir = mkdtempSync(join(tmpdir(), "strata-event-"));
    writeFileSync(
      join(dir, "queue.json"),
      JSON.stringify({ merge_group: { head_sha: "c".repeat(40), head_ref: "x" } }),
    );
    writeFileSync(join(dir, "pr.json"), JSON.stringify({ pull_request: { number: 1, head: { sha: "d".repeat(40) } } }));
    expect(await readMergeGroupHead(join(dir, "queue.json"))).toBe("c".repeat(40));
    expect(await readMergeGroupHead(join(dir, "pr.json"))).toBeNull();
    expect(await readMergeGroupHead(null)).toBeNull();
  });
});

describe("no secret value reaches GitHub", () => {
  it("scrubs registered secrets from the comment, even inside a collapsed block", async () => {
    const { registerSecret } = await import("../../../src/core/redact.js");
    registerSecret("hunter2-db-password");
    const r = await upsertStickyComment(await api(), 7, [
      "<details><summary>values</summary>\n\nhunter2-db-password\n</details>",
    ]);
    expect(r.comment.body).not.toContain("hunter2-db-password");
    expect(r.comment.body).toContain("<redacted>");
  });
});
