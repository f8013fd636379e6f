import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { serializeSnapshot, type Snapshot } from "../../src/core/snapshot/index.js";
import { createToken, readTokens, startServer } from "../../src/server/index.js";
import { openStore } from "../../src/io/stores/index.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { put, readEvents, startTestServer, watchersReach, type TestServer } from "../support/server.js";
import { fakeSops, makeChain, makeSnapshot, newKey } from "../support/snapshots.js";

const { key } = newKey();
const servers: TestServer[] = [];
async function serve(options: Partial<Parameters<typeof startTestServer>[0]> = {}): Promise<TestServer> {
  const s = await startTestServer({ trustedKeys: [key.publicKey], ...options });
  servers.push(s);
  return s;
}
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.server.close()));
});
afterAll(() => cleanupTempdirs());

async function errorOf(res: Response): Promise<{ status: number; code: string; body: Record<string, unknown> }> {
  const body = (await res.json()) as { error: { code: string } };
  return { status: res.status, code: body.error.code, body: body.error };
}

function allFiles(dir: string): string[] {
  return readdirSync(dir, { recursive: true, encoding: "utf8" })
    .map((p) => join(dir, p))
    .filter((p) => statSync(p).isFile());
}

describe("publish and read", () => {
  it("serves current with ETag and 304, versions, history, audit and status", async () => {
    const { url } = await serve();
    const [v1, v2] = makeChain(key, 2);
    expect((await fetch(`${url}/v1/environments/staging/snapshot`)).status).toBe(404);
    const r1 = await put(url, v1!, '"0"');
    expect(r1.status).toBe(201);
    expect(await r1.json()).toEqual({ environment: "staging", version: 1, digest: v1!.digest, action: "publish" });
    expect((await put(url, v2!, '"1"')).status).toBe(201);

    const cur = await fetch(`${url}/v1/environments/staging/snapshot`, {
      headers: { "strata-client": "service=checkout; instance=i-1; version=1" },
    });
    expect(cur.status).toBe(200);
    expect(cur.headers.get("etag")).toBe('"2"');
    expect(await cur.text()).toBe(serializeSnapshot(v2!));
    expect(
      (await fetch(`${url}/v1/environments/staging/snapshot`, { headers: { "if-none-match": '"2"' } })).status,
    ).toBe(304);
    expect(
      (await fetch(`${url}/v1/environments/staging/snapshot`, { headers: { "if-none-match": '"1"' } })).status,
    ).toBe(200);
    // The other forms of If-None-Match on the path answered from memory: a list, a weak tag, `*`; HEAD.
    for (const tag of ['"1", "2"', 'W/"2"', "*"])
      expect(
        (await fetch(`${url}/v1/environments/staging/snapshot`, { headers: { "if-none-match": tag } })).status,
      ).toBe(304);
    const head = await fetch(`${url}/v1/environments/staging/snapshot`, { method: "HEAD" });
    expect([head.status, head.headers.get("content-length"), await head.text()]).toEqual([
      200,
      String(Buffer.byteLength(serializeSnapshot(v2!))),
      "",
    ]);
    expect(JSON.parse(await (await fetch(`${url}/v1/environments/staging/snapshots/1`)).text())).toEqual(v1);
    expect((await fetch(`${url}/v1/environments/staging/snapshots/7`)).status).toBe(404);

    const history = (await (await fetch(`${url}/v1/environments/staging/history`)).json()) as {
      versions: { version: number; digest: string; rollbackOf: number | null; source: unknown; createdAt: string }[];
    };
    expect(history.versions.map((v) => [v.version, v.digest, v.rollbackOf])).toEqual([
      [1, v1!.digest, null],
      [2, v2!.digest, null],
    ]);
    expect(history.versions[0]!.source).toEqual(v1!.source);
    const audit = (await (await fetch(`${url}/v1/audit`)).json()) as {
      entries: { environment: string; version: number; action: string }[];
    };
    expect(audit.entries.map((e) => [e.environment, e.version, e.action])).toEqual([
      ["staging", 1, "publish"],
      ["staging", 2, "publish"],
    ]);

    const status = (await (await fetch(`${url}/v1/status`)).json()) as {
      schemaVersion: number;
      environments: { environment: string; version: number; clients: Record<string, number> }[];
      clients: { service: string; instance: string; version: number }[];
    };
    expect(status.schemaVersion).toBe(1);
    expect(status.environments).toMatchObject([{ environment: "staging", version: 2, clients: { 1: 1 } }]);
    expect(status.clients).toMatchObject([
      { service: "checkout", instance: "i-1", version: 1, environment: "staging" },
    ]);

    const metrics = await (await fetch(`${url}/metrics`)).text();
    for (const name of [
      "strata_http_requests_total",
      "strata_http_request_duration_seconds_bucket",
      "strata_versions_published_total",
      "strata_watchers",
      "strata_push_to_notify_seconds",
    ])
      expect(metrics).toContain(name);
    expect(metrics).toContain('strata_versions_published_total{environment="staging",action="publish"} 2');
    expect(await (await fetch(`${url}/healthz`)).json()).toEqual({ status: "ok" });
  });

  it("records a refresh (same content) and a rollback in the audit", async () => {
    const { url } = await serve();
    const [v1] = makeChain(key, 1);
    await put(url, v1!, '"0"');
    const v2 = makeSnapshot(key, { version: 2, previous: v1!.digest, config: v1!.config });
    expect(await (await put(url, v2, '"1"')).json()).toMatchObject({ action: "refresh" });
    const v3 = makeSnapshot(key, { version: 3, previous: v2.digest, rollbackOf: 1 });
    expect(await (await put(url, v3, '"2"')).json()).toMatchObject({ action: "rollback" });
  });
});

describe("refusals, each with its code", () => {
  it.each<
    [
      string,
      (ctx: { v1: Snapshot; v2: Snapshot; other: Snapshot }) => [Snapshot | string, string | null],
      number,
      string,
    ]
  >([
    ["missing If-Match", ({ v2 }) => [v2, null], 428, "version-conflict"],
    ["stale If-Match", ({ v2 }) => [v2, '"0"'], 409, "version-conflict"],
    [
      "skipped version",
      ({ v1 }) => [makeSnapshot(key, { version: 3, previous: v1.digest }), '"1"'],
      400,
      "invalid-snapshot",
    ],
    [
      "wrong previous",
      () => [makeSnapshot(key, { version: 2, previous: "sha256:" + "1".repeat(64) }), '"1"'],
      400,
      "invalid-snapshot",
    ],
    [
      "wrong environment",
      ({ v1 }) => [
        JSON.stringify(makeSnapshot(key, { environment: "production", version: 2, previous: v1.digest })).replace(
          /^/,
          "",
        ),
        '"1"',
      ],
      400,
      "invalid-snapshot",
    ],
    ["malformed JSON", () => ["{not json", '"1"'], 400, "invalid-snapshot"],
    ["not a snapshot", () => ['{"kind":"x"}', '"1"'], 400, "invalid-snapshot"],
    ["bad signature", ({ other }) => [other, '"1"'], 400, "invalid-signature"],
    ["wrong digest", ({ v2 }) => [{ ...v2, config: { app: { name: "tampered" } } }, '"1"'], 400, "digest-mismatch"],
    ["plaintext secrets", ({ v1 }) => [makeSnapshotUnchecked(v1), '"1"'], 400, "invalid-snapshot"],
  ])("%s", async (_name, make, status, code) => {
    const { url } = await serve();
    const [v1, v2] = makeChain(key, 2);
    await put(url, v1!, '"0"');
    const other = makeSnapshot(newKey().key, { version: 2, previous: v1!.digest });
    const [body, ifMatch] = make({ v1: v1!, v2: v2!, other });
    // A snapshot for another environment is sent to staging's URL.
    const res =
      typeof body === "string" && body.includes('"environment":"production"')
        ? await fetch(`${url}/v1/environments/staging/snapshot`, {
            method: "PUT",
            headers: { "if-match": ifMatch! },
            body,
          })
        : await put(url, body, ifMatch);
    const err = await errorOf(res);
    expect([err.status, err.code]).toEqual([status, code]);
    if (status === 409) expect(err.body.current).toEqual({ version: 1, digest: v1!.digest });
    // Nothing was written.
    expect((await fetch(`${url}/v1/environments/staging/snapshot`)).headers.get("etag")).toBe('"1"');
  });

  it("refuses an oversized body with 413 by length and while streaming", async () => {
    const { url } = await serve({ maxBodyBytes: 4096 });
    const big = "x".repeat(10_000);
    expect(await errorOf(await put(url, big, '"0"'))).toMatchObject({ status: 413, code: "payload-too-large" });
    const stream = new ReadableStream({
      start(c) {
        c.enqueue(new TextEncoder().encode(big));
        c.close();
      },
    });
    const res = await fetch(`${url}/v1/environments/staging/snapshot`, {
      method: "PUT",
      headers: { "if-match": '"0"' },
      body: stream,
      duplex: "half",
    } as RequestInit);
    expect(await errorOf(res)).toMatchObject({ status: 413, code: "payload-too-large" });
  });

  it("answers unknown routes and methods with JSON errors", async () => {
    const { url } = await serve();
    expect(await errorOf(await fetch(`${url}/v2/nothing`))).toMatchObject({ status: 404 });
    expect(await errorOf(await fetch(`${url}/v1/environments/staging/history`, { method: "DELETE" }))).toMatchObject({
      status: 405,
    });
    const post = await fetch(`${url}/v1/environments/staging/snapshot`, { method: "POST" });
    expect(post.headers.get("allow")).toBe("GET, HEAD, PUT");
    expect(await errorOf(post)).toMatchObject({ status: 405, code: "invalid-argument" });
    const postHealth = await fetch(`${url}/healthz`, { method: "POST" });
    expect(postHealth.headers.get("allow")).toBe("GET, HEAD");
    expect(postHealth.status).toBe(405);
    expect((await fetch(`${url}/healthz`, { method: "HEAD" })).status).toBe(200);
    // One code for "no such resource", under /v1 and under the dashboard's API alike.
    for (const path of [
      "/v1/environments/BAD/nothing",
      "/v2/nothing",
      "/ui/api/nope",
      "/v1/environments/staging/snapshots/x",
    ])
      expect(await errorOf(await fetch(`${url}${path}`)), path).toMatchObject({ status: 404, code: "not-found" });
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain('strata_http_requests_total{method="POST",route="snapshot",status="405"} 1');
    expect(metrics).toContain('strata_http_requests_total{method="GET",route="unknown",status="404"}');
    expect(await errorOf(await fetch(`${url}/v1/environments/..%2Fx/snapshot`))).toMatchObject({
      status: 404,
      code: "unknown-environment",
    });
  });
});

function makeSnapshotUnchecked(v1: Snapshot): string {
  // A would-be snapshot with a plaintext secret, correctly digested and signed: the shape check refuses it.
  const s = makeSnapshot(key, { version: 2, previous: v1.digest, secrets: fakeSops({ password: "x" }) });
  return JSON.stringify({
    ...s,
    secrets: { password: "plaintext-hunter2", sops: (s.secrets as { sops: unknown }).sops },
  });
}

describe("reads of the current version", () => {
  it("reads its own writes: once a publish is answered 201, this server's current is that version", async () => {
    // A store whose rollout records are slow to read (etcd across zones): the server re-reads a chain's
    // record before it announces a new version, and that must not leave its current behind its own 201.
    const store = await openStore(`file:${tempdir("strata-serve-")}`);
    const slow = new Proxy(store, {
      get(target, name) {
        const value = Reflect.get(target, name) as unknown;
        if (name === "readRollout")
          return async (key: string) => {
            await new Promise((resolve) => setTimeout(resolve, 50));
            return target.readRollout(key);
          };
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const server = await startServer(
      { store: slow, trustedKeys: [key.publicKey], tokens: null },
      { host: "127.0.0.1", port: 0 },
    );
    try {
      // Back to back, as `strata push` in a loop does: each publish names the version it was answered for as
      // If-Match of the next, and a GET right after sees the new version.
      for (const [i, snapshot] of makeChain(key, 10).entries()) {
        const res = await put(server.url, snapshot, `"${i}"`);
        expect(res.status, await res.clone().text()).toBe(201);
        const cur = await fetch(`${server.url}/v1/environments/staging/snapshot`);
        expect(cur.headers.get("etag")).toBe(`"${i + 1}"`);
        await cur.arrayBuffer();
      }
    } finally {
      await server.close();
    }
  });

  it("GET …/snapshots/{current} is served from the verified copy in memory: no store read per request", async () => {
    const dir = tempdir("strata-serve-");
    const store = await openStore(`file:${dir}`);
    // The real file store, with its reads counted.
    const reads: string[] = [];
    const counted = new Proxy(store, {
      get(target, name) {
        const value = Reflect.get(target, name) as unknown;
        if (name === "read")
          return (environment: string, version: number) => {
            reads.push(`${environment}@${version}`);
            return target.read(environment, version);
          };
        return typeof value === "function" ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });
    const server = await startServer(
      { store: counted, trustedKeys: [key.publicKey], tokens: null },
      { host: "127.0.0.1", port: 0 },
    );
    try {
      const [v1, v2] = makeChain(key, 2);
      expect((await put(server.url, v1!, '"0"')).status).toBe(201);
      expect((await put(server.url, v2!, '"1"')).status).toBe(201);
      for (let i = 0; i < 20; i++) {
        const r = await fetch(`${server.url}/v1/environments/staging/snapshots/2`);
        expect(r.status).toBe(200);
        expect(r.headers.get("etag")).toBe('"2"');
        expect(await r.text()).toBe(serializeSnapshot(v2!));
      }
      expect(reads).toEqual([]);
      // Any other version is read (and verified) from the store.
      expect(await (await fetch(`${server.url}/v1/environments/staging/snapshots/1`)).text()).toBe(
        serializeSnapshot(v1!),
      );
      expect(reads).toEqual(["staging@1"]);
    } finally {
      await server.close();
    }
  });
});

describe("shared caches", () => {
  it("without tokens a version is public and immutable; with tokens every answer that needs one is private", async () => {
    const open = await serve();
    const [v1] = makeChain(key, 1);
    expect((await put(open.url, v1!, '"0"')).status).toBe(201);
    const publicVersion = await fetch(`${open.url}/v1/environments/staging/snapshots/1`);
    expect(publicVersion.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    expect(publicVersion.headers.get("vary")).toBeNull();

    const file = join(tempdir(), "tokens.json");
    const reader = (await createToken(file, { scopes: ["read:*", "push:*"], name: "reader" })).token;
    const { url } = await serve({ tokens: await readTokens(file) });
    expect((await put(url, v1!, '"0"', reader)).status).toBe(201);
    const get = (path: string, headers: Record<string, string> = {}) =>
      fetch(url + path, { headers: { authorization: `Bearer ${reader}`, ...headers } });
    const version = await get("/v1/environments/staging/snapshots/1");
    expect(version.status).toBe(200);
    expect(version.headers.get("cache-control")).toBe("private, max-age=31536000, immutable");
    expect(version.headers.get("vary")).toBe("Authorization, Cookie");
    for (const [path, headers, cacheControl] of [
      ["/v1/environments/staging/snapshot", {}, "private, no-cache"],
      ["/v1/environments/staging/snapshot", { "if-none-match": '"1"' }, "private, no-cache"],
      ["/v1/environments/staging/history", {}, "private"],
      ["/v1/status", {}, "private"],
      ["/ui/api/session", {}, "no-store"],
    ] as const) {
      const r = await get(path, headers);
      expect(r.headers.get("cache-control"), path).toBe(cacheControl);
      expect(r.headers.get("vary"), path).toBe("Authorization, Cookie");
    }
    // Answers anyone may have are not marked: the probes.
    expect((await fetch(`${url}/healthz`)).headers.get("vary")).toBeNull();
  });
});

describe("auth", () => {
  it("checks tokens and scopes: 401 without or with a wrong token, 403 out of scope", async () => {
    const file = join(tempdir(), "tokens.json");
    const reader = (await createToken(file, { scopes: ["read:stag*"], name: "reader" })).token;
    const pusher = (await createToken(file, { scopes: ["push:staging"], name: "pusher" })).token;
    const prodPusher = (await createToken(file, { scopes: ["push:production"], name: "prod" })).token;
    const admin = (await createToken(file, { scopes: ["admin"], name: "root" })).token;
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file, "utf8")).not.toContain(reader);
    const { url, logs } = await serve({ tokens: await readTokens(file) });
    const [v1, v2] = makeChain(key, 2);
    const get = (path: string, token?: string) =>
      fetch(url + path, token ? { headers: { authorization: `Bearer ${token}` } } : {});

    expect((await put(url, v1!, '"0"')).status).toBe(401);
    expect((await put(url, v1!, '"0"', "strata_wrong")).status).toBe(401);
    expect(await errorOf(await put(url, v1!, '"0"', reader))).toMatchObject({ status: 403, code: "access-denied" });
    expect(await errorOf(await put(url, v1!, '"0"', prodPusher))).toMatchObject({ status: 403, code: "access-denied" });
    expect((await put(url, v1!, '"0"', pusher)).status).toBe(201);
    expect((await put(url, v2!, '"1"', admin)).status).toBe(201);

    const current = "/v1/environments/staging/snapshot";
    expect(await errorOf(await get(current))).toMatchObject({ status: 401, code: "unauthenticated" });
    expect(await errorOf(await get(current, prodPusher))).toMatchObject({ status: 403, code: "access-denied" });
    expect((await get(current, reader)).status).toBe(200);
    expect((await get(current, pusher)).status).toBe(200);
    expect((await get("/v1/environments/staging/history", reader)).status).toBe(200);
    expect((await get("/v1/environments/staging/snapshots/1", prodPusher)).status).toBe(403);
    expect((await get("/v1/audit", reader)).status).toBe(403);
    expect((await get("/v1/audit", admin)).status).toBe(200);
    expect((await get("/v1/status")).status).toBe(401);
    const s = (await (await get("/v1/status", prodPusher)).json()) as { environments: unknown[] };
    expect(s.environments).toEqual([]);
    expect((await get("/healthz")).status).toBe(200);
    expect(logs.join("")).not.toContain(reader);
    expect(logs.join("")).toContain('"token":"pusher"');
  });

  it("refuses a non-loopback listen address without a tokens file", async () => {
    const store = await openStore(`file:${tempdir()}`);
    await expect(
      startServer({ store, trustedKeys: [key.publicKey], tokens: null }, { host: "0.0.0.0", port: 0 }),
    ).rejects.toMatchObject({ code: "invalid-argument" });
    await store.close();
  });

  it("refuses bad scopes when creating a token", async () => {
    await expect(createToken(join(tempdir(), "t.json"), { scopes: ["write:*"] })).rejects.toMatchObject({
      code: "invalid-argument",
    });
  });
});

describe("watching", () => {
  it("long-poll returns 200 as soon as a newer version exists, 304 at the timeout", async () => {
    const { url, server } = await serve();
    const [v1, v2] = makeChain(key, 2);
    await put(url, v1!, '"0"');
    const t0 = Date.now();
    const timeout = await fetch(`${url}/v1/environments/staging/snapshot?wait=1`, {
      headers: { "if-none-match": '"1"' },
    });
    expect(timeout.status).toBe(304);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(900);
    // The longest wait the server allows (60 s, the test's own limit): a 200 can only come from the publish.
    const waiting = fetch(`${url}/v1/environments/staging/snapshot?wait=60`, { headers: { "if-none-match": '"1"' } });
    await watchersReach(url, "longpoll", 1);
    await put(url, v2!, '"1"');
    const res = await waiting;
    expect(res.status).toBe(200);
    expect(res.headers.get("etag")).toBe('"2"');
    // A stale If-None-Match answers at once.
    expect(
      (await fetch(`${url}/v1/environments/staging/snapshot?wait=30`, { headers: { "if-none-match": '"1"' } })).status,
    ).toBe(200);
    expect(server.metrics.render()).toMatch(/strata_push_to_notify_seconds_count 2/);
  });

  it("server-sent events: the current version, then each new one; Last-Event-ID replays what was missed", async () => {
    const { url } = await serve();
    const chain = makeChain(key, 4);
    await put(url, chain[0]!, '"0"');
    const res = await fetch(`${url}/v1/environments/staging/events`);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    const got = readEvents(res, (e) => e.length >= 2);
    await watchersReach(url, "sse", 1);
    await put(url, chain[1]!, '"1"');
    const events = await got;
    expect(events.map((e) => [e.event, e.id, JSON.parse(e.data)])).toEqual([
      ["snapshot", "1", { environment: "staging", version: 1, digest: chain[0]!.digest }],
      ["snapshot", "2", { environment: "staging", version: 2, digest: chain[1]!.digest }],
    ]);
    await put(url, chain[2]!, '"2"');
    await put(url, chain[3]!, '"3"');
    const resumed = await fetch(`${url}/v1/environments/staging/events`, { headers: { "last-event-id": "1" } });
    expect((await readEvents(resumed, (e) => e.length >= 3)).map((e) => e.id)).toEqual(["2", "3", "4"]);
    const upToDate = await fetch(`${url}/v1/environments/staging/events`, { headers: { "last-event-id": "4" } });
    expect(await readEvents(upToDate, (e) => e.length >= 1, 500)).toEqual([]);
  });

  it("graceful shutdown ends long-polls (304) and event streams", async () => {
    const s = await startTestServer({ trustedKeys: [key.publicKey] });
    const [v1] = makeChain(key, 1);
    await put(s.url, v1!, '"0"');
    // The longest wait the server allows (60 s, the test's own limit): only the shutdown can end it in time.
    const poll = fetch(`${s.url}/v1/environments/staging/snapshot?wait=60`, { headers: { "if-none-match": '"1"' } });
    const sse = await fetch(`${s.url}/v1/environments/staging/events`);
    const events = readEvents(sse, () => false, 600_000);
    await watchersReach(s.url, "longpoll", 1);
    await watchersReach(s.url, "sse", 1);
    await s.server.close();
    expect((await poll).status).toBe(304);
    expect((await events).map((e) => e.id)).toEqual(["1"]);
    expect(s.logs.some((l) => l.includes('"msg":"shutting down"'))).toBe(true);
  });
});

describe("secrets", () => {
  it("no secret plaintext in any stored byte or log line", async () => {
    const plaintext = "correct-horse-battery-staple";
    const { url, dir, logs } = await serve();
    const v1 = makeSnapshot(key, { secrets: fakeSops({ password: plaintext }) });
    expect((await put(url, v1, '"0"')).status).toBe(201);
    const leaked = JSON.stringify({
      ...makeSnapshot(key, { version: 2, previous: v1.digest }),
      secrets: { password: plaintext, sops: {} },
    });
    expect((await put(url, leaked, '"1"')).status).toBe(400);
    const stored = allFiles(dir)
      .map((f) => readFileSync(f, "utf8"))
      .join("\n");
    expect(stored).toContain("ENC[AES256_GCM");
    expect(stored).not.toContain(plaintext);
    expect(logs.length).toBeGreaterThan(0);
    expect(logs.join("\n")).not.toContain(plaintext);
  });
});
