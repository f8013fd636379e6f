// @module-tag e2e
// End to end: `strata serve` processes over one file directory and over one etcd, pushers in their own
// processes, and a server killed with SIGKILL in the middle of pushes.
import { execFile } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseSnapshot, verifySnapshot, type Snapshot } from "../../src/core/snapshot/index.js";
import { openStore } from "../../src/io/stores/index.js";
import { cliPath, strata } from "../support/cli.js";
import { etcdMissing, startEtcd, type EtcdHandle } from "../support/etcd.js";
import { cleanupTempdirs, gitdir, tempdir } from "../support/gitdir.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import { put, readEvents, watchersReach } from "../support/server.js";
import { makeChain, makeSnapshot, newKey } from "../support/snapshots.js";

const { key, pem } = newKey();
let keysDir: string;
let trustedFile: string;
let keyFile: string;
let etcd: EtcdHandle | null = null;
const running: ServeProcess[] = [];

beforeAll(async () => {
  keysDir = tempdir();
  trustedFile = join(keysDir, "trusted.txt");
  keyFile = join(keysDir, "signing.pem");
  writeFileSync(trustedFile, `# test key\n${key.publicKey.text}\n`);
  writeFileSync(keyFile, pem, { mode: 0o600 });
  if (!etcdMissing) etcd = await startEtcd();
});
afterAll(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop("SIGKILL")));
  await etcd?.stop();
  cleanupTempdirs();
});

async function serve(store: string, extra: string[] = []): Promise<ServeProcess> {
  const s = await spawnServe(["--store", store, "--trusted-keys", trustedFile, ...extra]);
  running.push(s);
  return s;
}

/** A one-namespace repository per pusher, each with different content, so every push has something to publish. */
function pusherRepo(id: number): string {
  return gitdir(
    {
      "strata.yaml": "version: 1\nenvironments:\n  staging: {}\n",
      "schemas/app.schema.yaml": "type: object\nproperties:\n  worker: { type: integer }\n",
      "environments/staging/app.yaml": `worker: ${id}\n`,
    },
    {},
  );
}

/** `strata push` in its own process. */
function pushFrom(
  url: string,
  repo: string,
): Promise<{ status: string; version: number | null; findings: { code: string }[]; exitCode: number }> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [
        cliPath,
        "push",
        "--env",
        "staging",
        "--repo",
        repo,
        "--endpoint",
        url,
        "--signing-key",
        keyFile,
        "--format",
        "json",
      ],
      { env: { ...process.env, NO_COLOR: "1" } },
      (error, stdout, stderr) => {
        try {
          const r = (
            JSON.parse(stdout) as {
              results: { status: string; version: number | null; findings: { code: string }[] }[];
            }
          ).results[0]!;
          resolve({ ...r, exitCode: error ? ((error as { code?: number }).code ?? -1) : 0 });
        } catch {
          reject(new Error(`push from ${repo} failed: ${stderr}`));
        }
      },
    );
  });
}

/** Versions 1..n, each exactly once, every `previous` naming the version before, every one signed. */
async function expectDenseChain(url: string, n: number): Promise<Snapshot[]> {
  const history = (await (await fetch(`${url}/v1/environments/staging/history`)).json()) as {
    versions: { version: number; digest: string; previous: string | null }[];
  };
  expect(history.versions.map((v) => v.version)).toEqual(Array.from({ length: n }, (_, i) => i + 1));
  const snapshots: Snapshot[] = [];
  for (let v = 1; v <= n; v++) {
    const s = parseSnapshot(await (await fetch(`${url}/v1/environments/staging/snapshots/${v}`)).text());
    verifySnapshot(s, [key.publicKey]);
    expect(s.version).toBe(v);
    expect(s.previous).toBe(v === 1 ? null : snapshots[v - 2]!.digest);
    expect(history.versions[v - 1]!.digest).toBe(s.digest);
    snapshots.push(s);
  }
  return snapshots;
}

async function concurrentPushes(a: ServeProcess, b: ServeProcess, n: number): Promise<void> {
  const repos = Array.from({ length: n }, (_, i) => pusherRepo(i));
  const results = await Promise.all(repos.map((repo, i) => pushFrom(i % 2 === 0 ? a.url : b.url, repo)));
  const winners = results.filter((r) => r.status === "published");
  const losers = results.filter((r) => r.status !== "published");
  expect(winners.length).toBeGreaterThan(0);
  for (const l of losers) {
    expect(l.status, JSON.stringify(l.findings)).toBe("conflict");
    expect(l.exitCode).toBe(4);
    expect(l.findings.map((f) => f.code)).toContain("version-conflict");
  }
  expect(winners.map((w) => w.version).sort((x, y) => x! - y!)).toEqual(
    Array.from({ length: winners.length }, (_, i) => i + 1),
  );
  for (const s of [a, b]) await expectDenseChain(s.url, winners.length);
}

// 16 pushers race for each version already (two servers, one store); 50 only multiplied the CPU time on a
// shared two-core machine.
describe("two servers, 16 concurrent `strata push` processes", () => {
  it("on one file directory: one writer at a time, versions dense, losers told version-conflict", async () => {
    const dir = tempdir("strata-store-");
    const [a, b] = [await serve(`file:${dir}`), await serve(`file:${dir}`)];
    await concurrentPushes(a, b, 16);
    const store = await openStore(`file:${dir}`);
    expect((await store.audit()).length).toBe((await store.head("staging"))!.version);
    await store.close();
  }, 300_000);

  it.skipIf(etcdMissing)(
    "on one etcd: the same guarantees",
    async () => {
      const loc = `etcd://${etcd!.hostPort}/concurrent`;
      const [a, b] = [await serve(loc), await serve(loc)];
      await concurrentPushes(a, b, 16);
    },
    300_000,
  );

  it("on one file directory: a push through one reaches an event-stream watcher of the other", async () => {
    const dir = tempdir("strata-store-");
    const [a, b] = [await serve(`file:${dir}`), await serve(`file:${dir}`)];
    const [v1] = makeChain(key, 1);
    const events = readEvents(await fetch(`${b.url}/v1/environments/staging/events`), (e) => e.length >= 1, 50_000);
    await watchersReach(b.url, "sse", 1);
    expect((await put(a.url, v1!, '"0"')).status).toBe(201);
    // inotify, or at worst the one-second poll (how fast is for the benchmark, not a test).
    expect((await events).map((e) => JSON.parse(e.data))).toEqual([
      { environment: "staging", version: 1, digest: v1!.digest },
    ]);
  });

  it.skipIf(etcdMissing)("on one etcd: a push through one reaches an event-stream watcher of the other", async () => {
    const loc = `etcd://${etcd!.hostPort}/sse`;
    const [a, b] = [await serve(loc), await serve(loc)];
    const [v1] = makeChain(key, 1);
    const events = readEvents(await fetch(`${b.url}/v1/environments/staging/events`), (e) => e.length >= 1, 50_000);
    await watchersReach(b.url, "sse", 1);
    expect((await put(a.url, v1!, '"0"')).status).toBe(201);
    expect((await events).map((e) => JSON.parse(e.data))).toEqual([
      { environment: "staging", version: 1, digest: v1!.digest },
    ]);
    // And a long-poll on b wakes for a push through a.
    const v2 = makeSnapshot(key, { version: 2, previous: v1!.digest });
    const poll = fetch(`${b.url}/v1/environments/staging/snapshot?wait=60`, { headers: { "if-none-match": '"1"' } });
    await watchersReach(b.url, "longpoll", 1);
    expect((await put(a.url, v2, '"1"')).status).toBe(201);
    expect((await poll).headers.get("etag")).toBe('"2"');
  });
});

describe("kill -9 during pushes (file store)", () => {
  it("after every restart the store reads back consistently with every acknowledged version", async () => {
    const dir = tempdir("strata-store-");
    const acknowledged = new Map<number, string>();
    for (let round = 0; round < 10; round++) {
      const s = await serve(`file:${dir}`);
      // Consistent after the restart: head, history and version files agree, every acknowledged version is there.
      const current = await fetch(`${s.url}/v1/environments/staging/snapshot`);
      const head = current.status === 404 ? 0 : Number(current.headers.get("etag")!.replace(/"/g, ""));
      await current.body?.cancel();
      if (head > 0) await expectDenseChain(s.url, head);
      for (const [v, digest] of acknowledged) {
        expect(v).toBeLessThanOrEqual(head);
        const text = await (await fetch(`${s.url}/v1/environments/staging/snapshots/${v}`)).text();
        expect(parseSnapshot(text).digest).toBe(digest);
      }
      // Push as fast as possible and kill the server without warning somewhere in the middle.
      let previous =
        head === 0
          ? null
          : parseSnapshot(await (await fetch(`${s.url}/v1/environments/staging/snapshots/${head}`)).text()).digest;
      let version = head;
      let stop = false;
      const pushing = (async () => {
        while (!stop) {
          const next = makeSnapshot(key, {
            version: version + 1,
            previous,
            config: { app: { round, version: version + 1 } },
          });
          try {
            const res = await put(s.url, next, `"${version}"`);
            if (res.status !== 201) throw new Error(`unexpected ${res.status}: ${await res.text()}`);
            acknowledged.set(next.version, next.digest);
            version = next.version;
            previous = next.digest;
          } catch (e) {
            if (stop) return;
            throw e;
          }
        }
      })();
      await new Promise((r) => setTimeout(r, 150 + Math.random() * 250));
      stop = true;
      s.child.kill("SIGKILL");
      await pushing.catch(() => undefined);
      await s.stop("SIGKILL");
      running.splice(running.indexOf(s), 1);
    }
    expect(acknowledged.size).toBeGreaterThan(10);
  }, 180_000);
});

describe("serve start-up checks", () => {
  it("refuses to start without trusted keys, and on a public address without tokens", async () => {
    const dir = tempdir();
    const noKeys = await strata(["serve", "--store", `file:${dir}`, "--listen", "127.0.0.1:0"]);
    expect(noKeys.exitCode).toBe(2);
    expect(noKeys.stderr).toContain("no trusted keys");
    const open = await strata([
      "serve",
      "--store",
      `file:${dir}`,
      "--listen",
      "0.0.0.0:0",
      "--trusted-keys",
      trustedFile,
    ]);
    expect(open.exitCode).toBe(2);
    expect(open.stderr).toContain("without a tokens file");
  });

  it("re-reads the tokens file on SIGHUP", async () => {
    const dir = tempdir();
    const tokens = join(dir, "tokens.json");
    await strata(["serve", "token", "create", "--scope", "admin", "--tokens", tokens]);
    const s = await serve(`file:${tempdir()}`, ["--tokens", tokens]);
    const late = (await strata(["serve", "token", "create", "--scope", "read:*", "--tokens", tokens])).stdout.trim();
    const get = () =>
      fetch(`${s.url}/v1/environments/staging/snapshot`, { headers: { authorization: `Bearer ${late}` } });
    expect((await get()).status).toBe(401);
    s.child.kill("SIGHUP");
    await vi.waitFor(
      () => {
        if (!s.stderr().includes("reloaded tokens")) throw new Error("waiting for the reload");
      },
      { timeout: 30_000, interval: 20 },
    );
    expect((await get()).status).toBe(404);
  });

  it("takes the trusted keys from a repository's strata.yaml and exits 0 on SIGTERM", async () => {
    const repo = tempdir();
    writeFileSync(
      join(repo, "strata.yaml"),
      `version: 1\nenvironments:\n  staging: {}\nsigning:\n  trusted_keys: ["${key.publicKey.text}"]\n`,
    );
    const s = await spawnServe(["--store", `file:${tempdir()}`, "--repo", repo]);
    const [v1] = makeChain(key, 1);
    expect((await put(s.url, v1!, '"0"')).status).toBe(201);
    expect(await s.stop("SIGTERM")).toBe(0);
    const logLines = s
      .stderr()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l) as { msg: string });
    expect(logLines.map((l) => l.msg)).toEqual(expect.arrayContaining(["listening", "published", "shutting down"]));
    expect(readFileSync(join(repo, "strata.yaml"), "utf8")).toContain("trusted_keys");
  });
});
