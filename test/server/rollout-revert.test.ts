// @module-tag e2e
// Git stays the truth when the endpoint rolls back by itself: two `strata serve --github-repository` processes
// (the built CLI) on one etcd, each with its own clone of a bare origin, and the GitHub stand-in. When a
// rollout's gate breaches, the server that won the rollback's compare-and-swap (and only it) pushes the
// revert of the version's merge commit to origin, opens its pull request and says so in the original pull
// request's rollout comment. GitHub's failures are retried with bounds or logged, never hold the rollback,
// and no token or config value reaches a log, a pull request or a comment.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { RolloutStatusDocument } from "../../src/core/protocol/index.js";
import type { JsonObject } from "../../src/core/json.js";
import {
  computeContentDigest,
  createSnapshot,
  serializeSnapshot,
  type Snapshot,
} from "../../src/core/snapshot/index.js";
import { etcdMissing, startEtcd, type EtcdHandle } from "../support/etcd.js";
import { cleanupTempdirs, commitAll, git, tempdir, writeTree } from "../support/gitdir.js";
import { startFakeGitHub, type FakeGitHub } from "../support/github-server.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import { CANARY, postReports, publisher, report, rolloutKey } from "./rollout-support.js";

const TOKEN = "ghs_serverSideToken0123456789";
/** A config value: it must never appear in anything the servers write. */
const VALUE = "hunter2-config-value";

const identity = {
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "Release Bot",
  GIT_AUTHOR_EMAIL: "release@example.com",
  GIT_COMMITTER_NAME: "Release Bot",
  GIT_COMMITTER_EMAIL: "release@example.com",
};

const ENVIRONMENTS = ["staging", "production", "preview"] as const;
type Env = (typeof ENVIRONMENTS)[number];

function strataYaml(): string {
  return [
    "version: 1",
    "environments:",
    ...ENVIRONMENTS.map((e) => `  ${e}: {}`),
    "signing:",
    `  trusted_keys: ["${publisher.key.publicKey.text}"]`,
    "rollouts:",
    `  trusted_keys: ["${rolloutKey.key.publicKey.text}"]`,
    "  environments:",
    ...ENVIRONMENTS.flatMap((e) => [`    ${e}:`, ...CANARY.map((l) => `      ${l}`)]),
    "",
  ].join("\n");
}

/** Version `n` of `environment`, signed, built from `commit` (and pull request `pr`), as `strata push` makes it. */
function version(
  environment: Env,
  n: number,
  previous: Snapshot | null,
  source: { commit: string; pr: number | null },
): Snapshot {
  const config: Record<string, JsonObject> = { payments: { timeout_ms: n === 1 ? 2000 : 5, password: VALUE } };
  return createSnapshot(
    {
      environment,
      version: n,
      previous: previous?.digest ?? null,
      rollbackOf: null,
      createdAt: new Date(),
      source: {
        repository: "acme/config",
        commit: source.commit,
        pullRequest: source.pr,
        approvedBy: [],
        pushedBy: "ci",
        emergency: false,
      },
      contentDigest: computeContentDigest(config, []),
      config,
      secrets: null,
    },
    [publisher.key],
  );
}

async function publish(url: string, s: Snapshot): Promise<void> {
  const res = await fetch(`${url}/v1/environments/${s.environment}/snapshot`, {
    method: "PUT",
    headers: { "content-type": "application/json", "if-match": `"${s.version - 1}"` },
    body: serializeSnapshot(s),
  });
  expect(res.status, await res.clone().text()).toBe(201);
}

async function status(url: string, env: Env): Promise<RolloutStatusDocument> {
  return (await (await fetch(`${url}/v1/environments/${env}/rollout`)).json()) as RolloutStatusDocument;
}

/** The candidate cohort fails 10% of its requests, the control 1%: the error-rate gate breaches. */
async function breach(url: string, env: Env): Promise<void> {
  const res = await postReports(
    url,
    [
      report(`${env}-canary-a`, 2, 20_000, 2_000),
      report(`${env}-canary-b`, 2, 20_000, 2_000),
      report(`${env}-stable-a`, 1, 50_000, 500),
      report(`${env}-stable-b`, 1, 50_000, 500),
    ],
    undefined,
    env,
  );
  expect(res.status).toBe(202);
}

type LogLine = Record<string, unknown> & { msg: string; level: string };
const lines = (s: ServeProcess): LogLine[] =>
  s
    .stderr()
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l) as LogLine);

describe.skipIf(etcdMissing)(
  "strata serve --github-repository: the revert pull request of an automatic rollback",
  () => {
    let etcd: EtcdHandle;
    let github: FakeGitHub;
    let origin: string;
    const servers: ServeProcess[] = [];
    /** Per environment: the initial commit, and the merge commit of the pull request that breaks it. */
    const merges = new Map<Env, { base: string; merge: string; pr: number }>();

    beforeAll(async () => {
      const dir = tempdir("strata-revert-");
      origin = join(dir, "origin.git");
      git(dir, "init", "-q", "--bare", "-b", "main", origin);
      const work = join(dir, "work");
      git(dir, "clone", "-q", origin, work);
      writeTree(work, {
        "strata.yaml": strataYaml(),
        ...Object.fromEntries(ENVIRONMENTS.map((e) => [`environments/${e}/payments.yaml`, "timeout_ms: 2000\n"])),
      });
      const base = commitAll(work, "initial");
      // Pull requests #7, #9 and #11 each set a timeout too small in one environment, merged with a merge commit.
      github = await startFakeGitHub();
      github.state.tokens = { [TOKEN]: "strata-bot" };
      for (const [i, env] of ENVIRONMENTS.entries()) {
        const pr = 7 + 2 * i;
        git(work, "checkout", "-q", "-b", `topic-${env}`);
        writeFileSync(join(work, `environments/${env}/payments.yaml`), "timeout_ms: 5\n");
        const head = commitAll(work, `${env}: a shorter payment timeout`);
        git(work, "checkout", "-q", "main");
        git(work, "merge", "-q", "--no-ff", `topic-${env}`, "-m", `Merge pull request #${pr} from acme/topic-${env}`);
        const merge = git(work, "rev-parse", "HEAD").trim();
        merges.set(env, { base, merge, pr });
        github.state.pulls.set(pr, {
          number: pr,
          author: "alice",
          title: `${env}: a shorter payment timeout`,
          state: "closed",
          merged: true,
          mergeCommitSha: merge,
          head: { sha: head, ref: `topic-${env}` },
          base: { sha: base },
        });
        github.state.commitPulls.set(merge, [pr]);
      }
      git(work, "push", "-q", "origin", "main");

      etcd = await startEtcd();
      for (const name of ["a", "b"]) {
        // Each server its own clone (as on two machines), able to push to origin.
        const clone = join(dir, `clone-${name}`);
        git(dir, "clone", "-q", origin, clone);
        const keyFile = join(dir, `rollout-${name}.pem`);
        writeFileSync(keyFile, rolloutKey.pem, { mode: 0o600 });
        servers.push(
          await spawnServe(
            [
              "--store",
              `etcd://${etcd.hostPort}/reverts`,
              "--repo",
              clone,
              "--rollout-key",
              keyFile,
              "--rollout-interval",
              "200ms",
              "--github-repository",
              "acme/config",
              "--github-api-url",
              github.url,
            ],
            { ...identity, GITHUB_TOKEN: TOKEN, GH_TOKEN: "", GITHUB_API_URL: "" },
          ),
        );
      }
    }, 120_000);

    afterAll(async () => {
      for (const s of servers) await s.stop("SIGKILL");
      await github?.close();
      await etcd?.stop();
      cleanupTempdirs();
    });

    /** Versions 1 and 2 of `env` published through server A: the second, from the merge, starts a canary. */
    async function rollOut(env: Env): Promise<void> {
      const m = merges.get(env)!;
      const v1 = version(env, 1, null, { commit: m.base, pr: null });
      await publish(servers[0]!.url, v1);
      await publish(servers[0]!.url, version(env, 2, v1, { commit: m.merge, pr: m.pr }));
      expect((await status(servers[1]!.url, env)).state).toMatchObject({ phase: "progressing" });
    }

    const pullsOpened = () =>
      github.state.requests.filter((q) => q.method === "POST" && q.path === "/repos/acme/config/pulls");
    const everything = () => [
      ...servers.map((s) => s.stderr()),
      ...github.state.requests.map((q) => JSON.stringify(q.body ?? null)),
      ...[...github.state.comments.values()].flat().map((c) => c.body),
    ];

    it("the server that rolled back opens the revert of the merge, once, and the original pull request says so", async () => {
      await rollOut("staging");
      // The reports go to B; whichever server's loop decides first wins the compare-and-swap.
      await breach(servers[1]!.url, "staging");
      const comment = await vi.waitFor(
        () => {
          const c = (github.state.comments.get(7) ?? []).find((x) => x.body.includes("<!-- strata:rollout -->"));
          if (c === undefined) throw new Error("no rollout comment on #7 yet");
          return c;
        },
        { timeout: 60_000, interval: 50 },
      );
      for (const s of servers) expect((await status(s.url, "staging")).state?.phase).toBe("rolled-back");

      // Exactly one pull request, from the branch the revert was pushed as, into the default branch.
      const opened = pullsOpened();
      expect(opened).toHaveLength(1);
      const { merge } = merges.get("staging")!;
      expect(opened[0]!.body).toMatchObject({
        title: 'Revert "Merge pull request #7 from acme/topic-staging"',
        head: "strata/revert-staging-v2",
        base: "main",
      });
      const body = (opened[0]!.body as { body: string }).body;
      expect(body).toContain("strata serve rolled back staging v2: its rollout sent every client back to v1");
      expect(body).toMatch(/Why: .*error-rate/);
      expect(body).toContain(`This reverts commit ${merge} of #7`);

      // On origin: one commit on main's tip undoing the merge, by the server's git identity.
      const tip = git(origin, "rev-parse", "refs/heads/strata/revert-staging-v2").trim();
      expect(git(origin, "rev-parse", `${tip}^`).trim()).toBe(git(origin, "rev-parse", "refs/heads/main").trim());
      expect(git(origin, "show", `${tip}:environments/staging/payments.yaml`)).toBe("timeout_ms: 2000\n");
      expect(git(origin, "show", `${tip}:environments/production/payments.yaml`)).toBe("timeout_ms: 5\n");
      expect(git(origin, "log", "-1", "--format=%B", tip)).toContain(`This reverts commit ${merge}.`);
      expect(git(origin, "log", "-1", "--format=%an <%ae>", tip).trim()).toBe("Release Bot <release@example.com>");

      // The sticky rollout comment on #7: its revert section.
      expect(comment.body).toContain("<!-- strata:section revert:staging -->");
      expect(comment.body).toContain("Rolled back: <code>staging</code> v2");
      expect(comment.body).toContain("Revert pull request: #");

      // Once across servers: the one whose compare-and-swap stored the rollback is the one that opened it.
      const roles = servers.map((s) => {
        const l = lines(s);
        return {
          decided: l.some((x) => x.msg === "rollout" && x.action === "rollback" && x.environment === "staging"),
          opened: l.filter((x) => x.msg === "opened the revert pull request" && x.environment === "staging").length,
        };
      });
      expect(roles.map((r) => r.decided).sort()).toEqual([false, true]);
      for (const r of roles) expect(r.opened).toBe(r.decided ? 1 : 0);

      for (const text of everything()) {
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain(VALUE);
      }
    }, 120_000);

    it("a GitHub failure is retried without repeating what succeeded; a refused token is logged once, and the rollbacks stand", async () => {
      // GitHub answers 503 to the next four attempts to open a pull request: the client's own retries, then ours.
      github.state.failures.push({
        method: "POST",
        path: /^\/repos\/acme\/config\/pulls$/,
        status: 503,
        body: { message: "Service Unavailable" },
        times: 4,
      });
      await rollOut("production");
      await breach(servers[0]!.url, "production");
      // (The stand-in records failed requests too: the server's own line says when one succeeded.)
      await vi.waitFor(
        () => {
          const done = servers
            .flatMap(lines)
            .some((l) => l.environment === "production" && l.msg === "opened the revert pull request");
          if (!done) throw new Error("no revert pull request of production yet");
        },
        { timeout: 90_000, interval: 100 },
      );
      // Four answered 503 (octokit's own three retries, then one of ours), the fifth opened it.
      const attempts = pullsOpened().filter(
        (q) => (q.body as { head?: string }).head === "strata/revert-production-v2",
      );
      expect(attempts).toHaveLength(5);
      const all = servers.flatMap(lines).filter((l) => l.environment === "production");
      const retried = all.find((l) => l.msg === "cannot open the revert pull request");
      expect(retried).toMatchObject({ level: "warn", code: "unreachable", attempt: 1, retryInMs: 2000 });
      // The branch was pushed once: the retry opened the pull request of the branch already there.
      expect(all.filter((l) => /cannot push the revert branch/.test(l.msg))).toEqual([]);
      expect(all.filter((l) => l.msg === "opened the revert pull request")).toHaveLength(1);

      // A token GitHub refuses: nothing to retry; one error line with its code, and the rollback is published.
      github.state.tokens = {};
      await rollOut("preview");
      await breach(servers[1]!.url, "preview");
      const refused = await vi.waitFor(
        () => {
          const l = servers
            .flatMap(lines)
            .find((x) => x.environment === "preview" && x.msg.startsWith("no revert pull request"));
          if (l === undefined) throw new Error("no error line yet");
          return l;
        },
        { timeout: 60_000, interval: 50 },
      );
      expect(refused).toMatchObject({ level: "error", code: "unauthenticated", attempt: 1 });
      expect(refused.msg).toBe("no revert pull request: cannot push the revert branch");
      expect(servers.flatMap(lines).filter((x) => x.environment === "preview" && x.code !== undefined)).toHaveLength(1);
      for (const s of servers) expect((await status(s.url, "preview")).state?.phase).toBe("rolled-back");
      for (const text of everything()) {
        expect(text).not.toContain(TOKEN);
        expect(text).not.toContain(VALUE);
      }
    }, 150_000);
  },
);

describe("strata serve --github-repository: checked at start", () => {
  afterAll(() => cleanupTempdirs());

  it("refuses to start without what the revert needs, each with its code and exit code, never showing the token", async () => {
    const dir = tempdir("strata-revert-args-");
    const origin = join(dir, "origin.git");
    git(dir, "init", "-q", "--bare", "-b", "main", origin);
    const clone = join(dir, "clone");
    git(dir, "clone", "-q", origin, clone);
    writeTree(clone, { "strata.yaml": strataYaml() });
    const plain = join(dir, "plain");
    writeTree(plain, { "strata.yaml": strataYaml() });
    const keyFile = join(dir, "rollout.pem");
    writeFileSync(keyFile, rolloutKey.pem, { mode: 0o600 });
    const store = `file:${join(dir, "store")}`;
    const env = { GITHUB_TOKEN: TOKEN, GH_TOKEN: "", GITHUB_API_URL: "" };
    const start = (args: string[], e: Record<string, string> = env) =>
      spawnServe(["--store", store, "--repo", clone, ...args], e).then(
        async (s) => {
          await s.stop("SIGKILL");
          throw new Error("serve started");
        },
        (e: Error) => e.message,
      );
    const withKey = ["--rollout-key", keyFile];
    const cases: [string[], Record<string, string>, RegExp][] = [
      [["--github-repository", "acme/config"], env, /serve exited 2: .*--github-repository needs --rollout-key/s],
      [
        [...withKey, "--github-repository", "acme"],
        env,
        /serve exited 2: .*invalid --github-repository "acme": not owner\/name/s,
      ],
      [
        [...withKey, "--github-api-url", "https://ghe.example.com/api/v3"],
        env,
        /serve exited 2: .*--github-api-url needs --github-repository/s,
      ],
      [
        [...withKey, "--github-repository", "acme/config", "--github-api-url", "ftp://ghe.example.com"],
        env,
        /serve exited 2: .*invalid --github-api-url: not an http\(s\) URL without credentials/s,
      ],
      [
        [...withKey, "--github-repository", "acme/config", "--github-api-url", `https://x:${TOKEN}@ghe.example.com`],
        env,
        /serve exited 2: .*invalid --github-api-url: not an http\(s\) URL without credentials/s,
      ],
      [
        [...withKey, "--github-repository", "acme/config"],
        { GITHUB_TOKEN: "", GH_TOKEN: "" },
        /serve exited 4: .*\[unauthenticated\] GITHUB_TOKEN is not set/s,
      ],
    ];
    for (const [args, e, expected] of cases) {
      const message = await start(args, e);
      expect(message).toMatch(expected);
      expect(message).not.toMatch(/\n\s+at /);
      expect(message).not.toContain(TOKEN);
    }
    // --repo must be a clone that can push the revert branch: one without origin is refused at start.
    const noOrigin = await spawnServe(
      ["--store", store, "--repo", plain, ...withKey, "--github-repository", "acme/config"],
      env,
    ).then(
      async (s) => {
        await s.stop("SIGKILL");
        return "started";
      },
      (e: Error) => e.message,
    );
    expect(noOrigin).toMatch(
      /serve exited 1: .*\[invalid-config\] --github-repository needs --repo to be a clone with a remote "origin"/s,
    );
  }, 120_000);
});
