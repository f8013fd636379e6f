// @module-tag e2e
// `strata impact --env E --version V` (docs/rollouts.md, "Impact"), the built CLI against the real `strata serve`
// (spawned) after real `strata push`es from a git repository: the key paths the version changed (never a
// value), the clients that run it, the rollout's figures when the endpoint has them, the pull request's rollout
// comment through the GitHub stand-in, and each error with its exit code.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, commitAll, tempdir } from "../support/gitdir.js";
import { startFakeGitHub, type FakeGitHub } from "../support/github-server.js";
import { fixtureRepo } from "../support/repo-fixture.js";
import { put } from "../support/server.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import { fakeSops, makeSnapshot, newKey } from "../support/snapshots.js";

const { key, pem } = newKey();
const other = newKey();
let repo: string;
let keyFile: string;
let serve: ServeProcess;
let github: FakeGitHub;
let commitV2: string;

/** A value only the pushed configuration holds: it must never reach any output. */
const CANARY_VALUE = "https://only-in-config.example/canary-value";

async function push(env: string): Promise<void> {
  const r = await strata(["push", "--env", env, "--endpoint", serve.url, "--signing-key", keyFile, "--repo", repo]);
  expect(r.exitCode, r.stderr).toBe(0);
}

/** A client of the fleet: the endpoint records it from its Strata-Client header. */
async function client(env: string, instance: string, version: number): Promise<void> {
  const res = await fetch(`${serve.url}/v1/environments/${env}/snapshot`, {
    headers: { "strata-client": `service=checkout; instance=${instance}; version=${version}; kind=sdk` },
  });
  await res.body?.cancel();
  expect(res.status).toBe(200);
}

beforeAll(async () => {
  repo = fixtureRepo({}, { git: true });
  const dir = tempdir();
  keyFile = join(dir, "signing.pem");
  writeFileSync(keyFile, pem, { mode: 0o600 });
  writeFileSync(
    join(repo, "strata.yaml"),
    `version: 1\nenvironments:\n  base: { abstract: true }\n  staging: { parent: base }\n  production: { parent: base, production: true }\nsigning:\n  trusted_keys: ["${key.publicKey.text}"]\n`,
  );
  commitAll(repo, "trust the signing key");
  serve = await spawnServe(["--store", `file:${join(dir, "store")}`, "--repo", repo]);
  await push("production");
  await push("staging");
  writeFileSync(join(repo, "environments/production/app.yaml"), `replicas: 5\nmode: fast\nurl: ${CANARY_VALUE}\n`);
  commitV2 = commitAll(repo, "production: five replicas, fast mode, the canary url");
  await push("production");
  await client("production", "a-1", 2);
  await client("production", "a-2", 2);
  await client("production", "b-1", 1);
  github = await startFakeGitHub();
  github.state.pulls.set(7, { number: 7, author: "alice", head: { sha: commitV2 }, base: { sha: commitV2 } });
}, 120_000);

afterAll(async () => {
  await serve?.stop();
  await github?.close();
  cleanupTempdirs();
});

const run = (args: string[], env: Record<string, string | undefined> = {}) =>
  strata(["impact", ...args, "--repo", repo, "--endpoint", serve.url], {
    env: { GITHUB_TOKEN: undefined, GH_TOKEN: undefined, GITHUB_REPOSITORY: undefined, ...env },
  });

describe("strata impact", () => {
  it("lists the key paths the version changed, never their values, and the clients that run it", async () => {
    const r = await run(["--env", "production", "--version", "2", "--format", "json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const report = JSON.parse(r.stdout);
    expect(report).toMatchObject({
      schemaVersion: 1,
      environment: "production",
      service: null,
      version: 2,
      baseline: { version: 1, why: "previous-version" },
      keys: { changed: ["app.mode", "app.replicas", "app.url"], sensitive: [] },
      source: { commit: commitV2 },
      rollout: null,
      metrics: [],
      decision: null,
    });
    expect(report.noRollout).toMatch(/no rollout is recorded/);
    expect(report.clients.running.map((c: { instance: string }) => c.instance).sort()).toEqual(["a-1", "a-2"]);
    expect(report.clients.elsewhere).toBe(1);
    for (const format of ["json", "text", "markdown"]) {
      const out = await run(["--env", "production", "--version", "2", "--format", format]);
      expect(out.exitCode, out.stderr).toBe(0);
      expect(out.stdout + out.stderr).not.toContain(CANARY_VALUE);
      expect(out.stdout).not.toMatch(/\bfast\b/);
    }
    const text = (await run(["--env", "production", "--version", "2"])).stdout;
    expect(text).toContain("production v2 (commit ");
    expect(text).toContain("keys: 3 keys changed; compared with v1, the version before it");
    expect(text).toMatch(/^ {2}app\.url$/m);
    expect(text).toContain("clients: 2 run v2 now, 1 run another version");
    expect(text).toMatch(/^ {2}checkout\/a-1 \[sdk\] /m);
    expect(text).toContain("rollout: no rollout is recorded for this chain");
  });

  it("the first version: every key is new", async () => {
    const r = await run(["--env", "staging", "--version", "1", "--format", "json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      baseline: null,
      keys: { changed: ["app.mode", "app.name", "app.pool.max", "app.replicas"] },
    });
  });

  it("posts the report to the pull request's rollout comment, one section per environment, and keeps it", async () => {
    const gh = {
      GITHUB_TOKEN: "test-token",
      GITHUB_REPOSITORY: "acme/config",
      GITHUB_API_URL: github.url,
    };
    const first = await run(["--env", "production", "--version", "2", "--pr", "7"], gh);
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stderr).toMatch(
      /created the rollout comment of #7: https:\/\/github\.com\/acme\/config\/issues\/7#issuecomment-\d+/,
    );
    const second = await run(["--env", "staging", "--version", "1", "--pr", "7"], gh);
    expect(second.stderr).toMatch(/updated the rollout comment of #7/);
    const again = await run(["--env", "staging", "--version", "1", "--pr", "7"], gh);
    expect(again.stderr).toMatch(/unchanged the rollout comment of #7/);
    const comments = github.state.comments.get(7)!;
    expect(comments).toHaveLength(1);
    const body = comments[0]!.body;
    expect(body.startsWith("<!-- strata:rollout -->\n")).toBe(true);
    expect(body).toContain("<!-- strata:section impact:production -->");
    expect(body).toContain("<!-- strata:section impact:staging -->");
    expect(body).toContain("Impact of <code>production</code> v2");
    expect(body).toContain("- <code>app.url</code>");
    expect(body).not.toContain(CANARY_VALUE);
    // The review's own sticky comment (strata pr comment) is another comment, never this one.
    expect(body).not.toContain("<!-- strata:pr-comment -->");

    // --no-comment prints only; no GitHub configured and no --pr: prints only, no error.
    const calls = github.calls().length;
    expect((await run(["--env", "production", "--version", "2", "--pr", "7", "--no-comment"], gh)).exitCode).toBe(0);
    expect((await run(["--env", "production", "--version", "2"])).exitCode).toBe(0);
    expect(github.calls().length).toBe(calls);
  });

  it("refuses what it cannot do, each with its code and exit code", async () => {
    const cases: [string[], Record<string, string | undefined>, number, RegExp][] = [
      [["--env", "production", "--version", "9"], {}, 2, /production has no version 9/],
      [["--env", "nowhere", "--version", "1"], {}, 2, /nowhere has no version 1/],
      [["--env", "production", "--version", "two"], {}, 2, /"two" is not a version number/],
      [["--env", "production"], {}, 2, /required option '--version <version>' not specified/],
      [
        ["--env", "production", "--version", "2", "--format", "yaml"],
        {},
        2,
        /Allowed choices are text, json, markdown/,
      ],
      [
        ["--env", "production", "--version", "2", "--pr", "7"],
        {},
        4,
        /cannot post to pull request #7: GITHUB_TOKEN is not set/,
      ],
      [
        ["--env", "production", "--version", "2", "--pr", "404"],
        { GITHUB_TOKEN: "test-token", GITHUB_REPOSITORY: "acme/config", GITHUB_API_URL: github.url },
        4,
        /GitHub answered 404/,
      ],
      [
        ["--env", "production", "--version", "2", "--pr", "7"],
        { GITHUB_TOKEN: "wrong-token", GITHUB_REPOSITORY: "acme/config", GITHUB_API_URL: github.url },
        4,
        /GitHub rejected the token/,
      ],
    ];
    for (const [args, env, code, message] of cases) {
      const r = await run(args, env);
      expect(r.stderr, args.join(" ")).toMatch(message);
      expect(r.exitCode, args.join(" ")).toBe(code);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    }
    // A version signed by a key the repository does not trust.
    const keys = join(tempdir(), "other.txt");
    writeFileSync(keys, `${other.key.publicKey.text}\n`);
    const untrusted = await run(["--env", "production", "--version", "2", "--trusted-keys", keys]);
    expect(untrusted.stderr).toMatch(/signature/i);
    expect(untrusted.exitCode).toBe(4);
    // No endpoint answering.
    const down = await strata([
      "impact",
      "--env",
      "production",
      "--version",
      "2",
      "--repo",
      repo,
      "--endpoint",
      "http://127.0.0.1:9",
    ]);
    expect(down.stderr).toMatch(/cannot reach the endpoint/);
    expect(down.exitCode).toBe(4);
  });
});

describe("strata impact on hostile and sensitive keys", () => {
  let hostile: ServeProcess;
  beforeAll(async () => {
    const dir = tempdir();
    const trusted = join(dir, "trusted.txt");
    writeFileSync(trusted, `${key.publicKey.text}\n`);
    hostile = await spawnServe(["--store", `file:${join(dir, "store")}`, "--trusted-keys", trusted]);
    const v1 = makeSnapshot(key, {
      environment: "qa",
      version: 1,
      config: { app: { name: "x" } },
      secrets: { ...fakeSops({}), db: { password: (fakeSops({ p: "one" }) as Record<string, string>).p! } },
    });
    const v2 = makeSnapshot(key, {
      environment: "qa",
      version: 2,
      previous: v1.digest,
      config: { app: { name: "x", "evil\u202eevil": 1, "<img src=x onerror=alert(1)>": 2, "a`b|c": 3 } },
      secrets: { ...fakeSops({}), db: { password: (fakeSops({ p: "two" }) as Record<string, string>).p! } },
    });
    expect((await put(hostile.url, v1, '"0"')).status).toBe(201);
    expect((await put(hostile.url, v2, '"1"')).status).toBe(201);
  }, 60_000);
  afterAll(async () => {
    await hostile?.stop();
  });

  it("escapes names in text and markdown, and lists a sensitive key by path when its ciphertext changed", async () => {
    const base = ["impact", "--env", "qa", "--version", "2", "--endpoint", hostile.url, "--trusted-keys"];
    const keys = join(tempdir(), "k.txt");
    writeFileSync(keys, `${key.publicKey.text}\n`);
    const json = JSON.parse((await strata([...base, keys, "--format", "json"])).stdout);
    expect(json.keys.sensitive).toEqual(["db.password"]);
    expect(json.keys.changed).toHaveLength(3);
    const text = await strata([...base, keys]);
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).not.toContain("\u202e");
    expect(text.stdout).toContain("app.evil\\u{202e}evil");
    expect(text.stdout).toContain("db.password (sensitive: value not read)");
    const md = await strata([...base, keys, "--format", "markdown"]);
    expect(md.stdout).not.toMatch(/<img/);
    expect(md.stdout).toContain("<code>app.&#60;img src=x onerror=alert(1)&#62;</code>");
    expect(md.stdout).toContain("<code>app.a&#96;b&#124;c</code>");
    expect(md.stdout).toContain("<code>db.password</code> (sensitive)");
  });
});
