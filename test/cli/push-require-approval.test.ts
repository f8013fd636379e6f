// @module-tag e2e
// `strata push --require-approval` end to end: the built CLI, real git repositories merged the three ways
// GitHub merges (merge commit, squash, fast-forward), the real endpoint, and GitHub's API served locally.
// The gate covers every change between the commit the endpoint's current version was published from and
// HEAD, not only the pull request that produced HEAD.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { scaffoldFiles } from "../../src/app/init.js";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, commitAll, git, gitdir, writeTree } from "../support/gitdir.js";
import { addReviews, startFakeGitHub, type FakeGitHub } from "../support/github-server.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { newKey } from "../support/snapshots.js";

const { key, pem } = newKey();
let gh: FakeGitHub;
const servers: TestServer[] = [];
beforeAll(async () => {
  gh = await startFakeGitHub();
});
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.server.close()));
});
afterAll(async () => {
  await gh.close();
  cleanupTempdirs();
});

type Method = "merge" | "squash" | "fast-forward";

interface SnapshotSourceJson {
  commit: string;
  pullRequest: number | null;
  approvedBy: string[];
  emergency: boolean;
  pullRequests?: { number: number; approvedBy: string[]; emergency: boolean }[];
}

/** A configuration repository on GitHub (served locally), its endpoint, and pull requests merged into main. */
class Scenario {
  readonly repo: string;
  private nextPr = 10;
  private constructor(
    readonly server: TestServer,
    rules: string,
  ) {
    const files = scaffoldFiles("# workflow\n");
    files["strata.yaml"] = files["strata.yaml"]!.replace(
      "  trusted_keys: []",
      `  trusted_keys: ["${key.publicKey.text}"]`,
    ).replace("approvals:\n", `approvals:\n${rules}`);
    this.repo = gitdir(files);
    writeFileSync(join(this.repo, "..", "signing.pem"), pem, { mode: 0o600 });
    gh.state.pulls.clear();
    gh.state.reviews.clear();
    gh.state.commitPulls.clear();
    gh.state.requests.length = 0;
    gh.state.teams.set("your-org/sre", ["sre1", "sre2"]);
    this.syncBranch();
  }

  static async create(rules = ""): Promise<Scenario> {
    const server = await startTestServer({ trustedKeys: [key.publicKey] });
    servers.push(server);
    return new Scenario(server, rules);
  }

  get head(): string {
    return git(this.repo, "rev-parse", "HEAD").trim();
  }

  /** GitHub's view of main: its first-parent history, oldest first. */
  private syncBranch(): void {
    gh.state.branches.set("main", git(this.repo, "rev-list", "--first-parent", "--reverse", "HEAD").trim().split("\n"));
  }

  /**
   * A pull request from a topic branch with one commit per file set, merged the given way, as GitHub
   * records it: `merge_commit_sha` (the merge or squash commit; the head on a fast-forward) and the
   * commit -> pull request association of every commit it put on main.
   */
  merge(
    commits: Record<string, string>[],
    options: { method?: Method; approvedBy?: string[]; labels?: string[] } = {},
  ): { number: number; landing: string } {
    const number = this.nextPr++;
    const method = options.method ?? "merge";
    const base = this.head;
    git(this.repo, "checkout", "-q", "-b", `pr-${number}`);
    for (const [i, files] of commits.entries()) {
      writeTree(this.repo, files);
      commitAll(this.repo, `change ${number}.${i}`);
    }
    const head = this.head;
    git(this.repo, "checkout", "-q", "main");
    if (method === "merge")
      git(this.repo, "merge", "-q", "--no-ff", "-m", `Merge pull request #${number} from acme/pr-${number}`, head);
    else if (method === "squash") {
      git(this.repo, "merge", "-q", "--squash", head);
      commitAll(this.repo, `Change ${number} (#${number})`);
    } else git(this.repo, "merge", "-q", "--ff-only", head);
    const landing = this.head;
    const landed = git(this.repo, "rev-list", "--first-parent", `${base}..${landing}`).trim().split("\n");
    for (const sha of landed) gh.state.commitPulls.set(sha, [number]);
    gh.state.pulls.set(number, {
      number,
      author: "dev",
      state: "closed",
      merged: true,
      mergeCommitSha: landing,
      head: { sha: head, ref: `pr-${number}` },
      base: { sha: base },
      labels: options.labels ?? [],
    });
    addReviews(
      gh.state,
      number,
      (options.approvedBy ?? []).map((login) => ({ login, state: "APPROVED", commitId: head })),
    );
    this.syncBranch();
    return { number, landing };
  }

  /** A commit pushed straight to main, bypassing pull requests. */
  pushDirectly(files: Record<string, string>): string {
    writeTree(this.repo, files);
    const sha = commitAll(this.repo, "hotfix straight to main");
    this.syncBranch();
    return sha;
  }

  env(): Record<string, string> {
    return {
      GITHUB_TOKEN: "test-token",
      GITHUB_REPOSITORY: "acme/config",
      GITHUB_API_URL: gh.url,
      STRATA_ENDPOINT: this.server.url,
      STRATA_SIGNING_KEY: pem,
    };
  }

  push(environments: string[], requireApproval = true, timeout = 120_000): ReturnType<typeof strata> {
    return strata(
      [
        "push",
        ...environments.flatMap((e) => ["--env", e]),
        ...(requireApproval ? ["--require-approval"] : []),
        "--repo",
        this.repo,
      ],
      { env: this.env(), timeout },
    );
  }

  async current(
    environment: string,
  ): Promise<{ version: number; source: SnapshotSourceJson; config: { app: { replicas: number } } } | null> {
    const r = await fetch(`${this.server.url}/v1/environments/${environment}/snapshot`);
    return r.status === 404 ? null : ((await r.json()) as never);
  }
}

const prodApp = (replicas: number, url = "https://app.example.com"): Record<string, string> => ({
  "environments/production/app.yaml": `replicas: ${replicas}\nbase_url: ${url}\n`,
});
const prodReplicas = (n: number): Record<string, string> => prodApp(n);
const stagingLogLevel = (level: string): Record<string, string> => ({
  "environments/staging/app.yaml": `log_level: ${level}\nbase_url: https://staging.app.example.com\n`,
});
const prodUrl = (url: string): Record<string, string> => prodApp(3, url);

/** The published baseline every scenario starts from: both environments, pushed by an operator. */
async function baseline(s: Scenario): Promise<void> {
  const r = await s.push(["staging", "production"], false);
  expect(r.exitCode, r.stderr).toBe(0);
}

describe.each<Method>(["merge", "squash", "fast-forward"])(
  "push --require-approval over every unpublished change (%s)",
  (method) => {
    it("an unapproved production change refused at its own push does not ride out with the next merge", async () => {
      const s = await Scenario.create();
      await baseline(s);
      const published = s.head;
      // A: production, no approval (it needs one from @your-org/sre).
      const a = s.merge(method === "fast-forward" ? [prodReplicas(4), prodReplicas(5)] : [prodReplicas(5)], {
        method,
      });
      const first = await s.push(["production"]);
      expect(first.exitCode).toBe(1);
      expect(first.stdout + first.stderr).toContain("approval-required");

      // B: staging only, which needs nobody.
      const b = s.merge([stagingLogLevel("warn")], { method });
      const again = await s.push(["production"]);
      expect(again.exitCode, again.stdout).toBe(1);
      const out = again.stdout + again.stderr;
      expect(out).toContain(`#${a.number}`);
      expect(out).toContain("needs 1 more from @your-org/sre");
      expect(out).toContain("app.replicas");
      expect(out).not.toContain(`#${b.number}`);
      expect((await s.current("production"))!.source.commit).toBe(published);

      // Staging publishes: A did not change it, B needs nothing.
      const staging = await s.push(["staging"]);
      expect(staging.exitCode, staging.stdout + staging.stderr).toBe(0);
      expect((await s.current("staging"))!.source).toMatchObject({
        commit: s.head,
        pullRequest: b.number,
        pullRequests: [{ number: b.number, approvedBy: [], emergency: false }],
      });

      // Once A has its approval, production publishes and its source names A with its approver.
      addReviews(gh.state, a.number, [
        { login: "sre1", state: "APPROVED", commitId: gh.state.pulls.get(a.number)!.head.sha },
      ]);
      const ok = await s.push(["production"]);
      expect(ok.exitCode, ok.stdout + ok.stderr).toBe(0);
      const current = (await s.current("production"))!;
      expect(current.config.app.replicas).toBe(5);
      expect(current.source).toMatchObject({
        commit: s.head,
        pullRequest: a.number,
        approvedBy: ["sre1"],
        emergency: false,
        pullRequests: [{ number: a.number, approvedBy: ["sre1"], emergency: false }],
      });
    }, 180_000);
  },
);

describe("push --require-approval", () => {
  it("an approved C after an unapproved A: A's change still needs its approvals", async () => {
    const s = await Scenario.create();
    await baseline(s);
    const a = s.merge([prodReplicas(7)]);
    const c = s.merge([prodApp(7, "https://c.example.com")], { approvedBy: ["sre2"] });
    const r = await s.push(["production"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`#${a.number}`);
    expect(r.stderr).not.toContain(`#${c.number} `);
    expect(r.stderr).toContain("app.replicas");
  }, 120_000);

  it("a change a later approved pull request undid publishes nothing and needs nothing", async () => {
    const s = await Scenario.create();
    await baseline(s);
    const a = s.merge([prodReplicas(8)]);
    const revert = s.merge([prodReplicas(3)], { approvedBy: ["sre1"] });
    const url = s.merge([prodUrl("https://new.example.com")], { approvedBy: ["sre2"] });
    const r = await s.push(["production"]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const source = (await s.current("production"))!.source;
    expect(source.pullRequests!.map((p) => p.number)).toEqual([url.number]);
    expect(source.pullRequests!.map((p) => p.number)).not.toContain(a.number);
    expect(revert.number).toBeGreaterThan(a.number);
  }, 120_000);

  it("an emergency-labelled pull request in the range is published and recorded as one", async () => {
    const s = await Scenario.create("  emergency: { label: config-emergency, require: 0 }\n");
    await baseline(s);
    const approved = s.merge([prodUrl("https://approved.example.com")], { approvedBy: ["sre1"] });
    const emergency = s.merge([prodApp(9, "https://approved.example.com")], { labels: ["config-emergency"] });
    const r = await s.push(["production"]);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    expect((await s.current("production"))!.source).toMatchObject({
      pullRequest: emergency.number,
      approvedBy: ["sre1"],
      emergency: true,
      pullRequests: [
        { number: approved.number, approvedBy: ["sre1"], emergency: false },
        { number: emergency.number, approvedBy: [], emergency: true },
      ],
    });
  }, 120_000);

  it("refuses a change pushed straight to main, naming the commit", async () => {
    const s = await Scenario.create();
    await baseline(s);
    s.merge([prodUrl("https://ok.example.com")], { approvedBy: ["sre1"] });
    const direct = s.pushDirectly(prodApp(6, "https://ok.example.com"));
    const r = await s.push(["production"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`commit ${direct.slice(0, 12)} did not come from a merged pull request into main`);
  }, 120_000);

  it("refuses an environment with no published version, and a version published off this history", async () => {
    const s = await Scenario.create();
    s.merge([prodReplicas(4)], { approvedBy: ["sre1"] });
    const none = await s.push(["production"]);
    expect(none.exitCode).toBe(1);
    expect(none.stderr).toContain("production has no published version");
    expect(none.stderr).toContain("publish its first version once without --require-approval");
    expect(await s.current("production")).toBeNull();

    // Published from a branch that main never merged (or history rewritten since).
    git(s.repo, "checkout", "-q", "-b", "elsewhere");
    writeTree(s.repo, prodReplicas(2));
    commitAll(s.repo, "published from a branch");
    expect((await s.push(["production"], false)).exitCode).toBe(0);
    const off = (await s.current("production"))!.source.commit;
    git(s.repo, "checkout", "-q", "main");
    const r = await s.push(["production"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain(`was published from ${off.slice(0, 12)}, which is not an ancestor of`);
  }, 120_000);

  it("checks 50 merges with a bounded number of GitHub requests, for every environment", async () => {
    const s = await Scenario.create();
    await baseline(s);
    for (let i = 0; i < 50; i++)
      s.merge([i % 2 === 0 ? prodReplicas(10 + i) : stagingLogLevel(i % 4 === 1 ? "warn" : "error")], {
        approvedBy: ["sre1"],
      });
    gh.state.requests.length = 0;
    // Fifty diffs (one per landed pull request) on a shared, loaded machine: minutes, not seconds.
    const r = await s.push(["staging", "production"], true, 420_000);
    expect(r.exitCode, r.stdout + r.stderr).toBe(0);
    const calls = gh.calls();
    // One association lookup per config-changing commit, one review list per pull request that changed
    // a pushed environment, the default branch, the branch check and the team: each asked once however
    // many environments are pushed. Rules are read from the local clone, never over the API.
    expect(calls.filter((c) => c.includes("/pulls") && c.includes("/commits/"))).toHaveLength(50);
    expect(calls.filter((c) => c.endsWith("/reviews"))).toHaveLength(50);
    expect(calls.filter((c) => c.includes("/contents/"))).toHaveLength(0);
    expect(calls.length).toBeLessThanOrEqual(103);
    const production = (await s.current("production"))!.source;
    expect(production.pullRequests).toHaveLength(25);
    expect((await s.current("staging"))!.source.pullRequests).toHaveLength(25);
  }, 600_000);

  it("refuses a dirty working tree", async () => {
    const s = await Scenario.create();
    await baseline(s);
    s.merge([prodReplicas(5)], { approvedBy: ["sre1"] });
    writeTree(s.repo, prodReplicas(9));
    const dirty = await s.push(["production"]);
    expect(dirty.exitCode).toBe(1);
    expect(dirty.stderr).toMatch(/uncommitted/);
    expect(readFileSync(join(s.repo, "environments/production/app.yaml"), "utf8")).toContain("replicas: 9");
  }, 120_000);
});
