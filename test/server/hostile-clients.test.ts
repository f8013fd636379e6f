// The endpoint against hostile clients: slow connections, unknown names, forged fleet reports, overlong
// names and DNS rebinding. Loopback only; every socket a test opens is destroyed however it ends.
import { request } from "node:http";
import { connect, type Socket } from "node:net";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { sanitizeClientField } from "../../src/core/protocol/index.js";
import { ClientTracker, createToken, readTokens } from "../../src/server/index.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { put, readEvents, startTestServer, type TestServer } from "../support/server.js";
import type { JsonObject } from "../../src/core/json.js";
import { makeChain, makeSnapshot, newKey } from "../support/snapshots.js";

const { key } = newKey();
const servers: TestServer[] = [];
const sockets: Socket[] = [];
async function serve(options: Partial<Parameters<typeof startTestServer>[0]> = {}): Promise<TestServer> {
  const s = await startTestServer({ trustedKeys: [key.publicKey], ...options });
  servers.push(s);
  return s;
}
afterEach(async () => {
  for (const s of sockets.splice(0)) s.destroy();
  await Promise.all(servers.splice(0).map((s) => s.server.close()));
});
afterAll(() => cleanupTempdirs());

/** A raw GET with any Host header (fetch does not let a caller choose Host). */
function rawGet(url: string, path: string, host: string): Promise<{ status: number; body: string }> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, headers: { host } }, (res) => {
      let body = "";
      res
        .setEncoding("utf8")
        .on("data", (c: string) => (body += c))
        .on("end", () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on("error", reject).end();
  });
}

/** A GET written byte for byte: HTTP clients refuse control characters in header values, attackers do not. */
function rawRequest(url: string, path: string, client: string): Promise<string> {
  const u = new URL(url);
  return new Promise((resolve, reject) => {
    const sock = connect({ host: u.hostname, port: Number(u.port) }, () => {
      sock.end(
        Buffer.from(
          `GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\nStrata-Client: ${client}\r\nConnection: close\r\n\r\n`,
          "latin1",
        ),
      );
    });
    sockets.push(sock);
    let out = "";
    sock
      .setEncoding("latin1")
      .on("data", (d: string) => (out += d))
      .on("end", () => resolve(out))
      .on("error", reject);
  });
}

async function metric(url: string, name: string): Promise<number> {
  const text = await (await fetch(`${url}/metrics`)).text();
  const line = text.split("\n").find((l) => l.startsWith(`${name} `) || l.startsWith(`${name}{}`));
  return Number(line?.split(" ").at(-1) ?? NaN);
}

/** Resolves once the metric satisfies `ok` (read from /metrics: the server's own count, not a guess). */
async function untilMetric(url: string, name: string, ok: (v: number) => boolean): Promise<number> {
  for (;;) {
    const v = await metric(url, name);
    if (ok(v)) return v;
    await new Promise((r) => setImmediate(r));
  }
}

/** Opens `n` connections from `localAddress`; `closed` resolves with each socket's closing, counted. */
async function openIdle(
  url: string,
  n: number,
  localAddress: string,
  partial: (i: number) => boolean,
): Promise<{ closed: () => number; allClosed: Promise<void> }> {
  const port = Number(new URL(url).port);
  let closed = 0;
  let done!: () => void;
  const allClosed = new Promise<void>((r) => (done = r));
  await Promise.all(
    Array.from(
      { length: n },
      (_, i) =>
        new Promise<void>((resolve) => {
          const sock = connect({ host: "127.0.0.1", port, localAddress }, () => {
            if (partial(i)) sock.write("GET /v1/environments/staging/snapshot HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            resolve();
          });
          sock.on("error", () => resolve());
          sock.on("close", () => {
            if (++closed === n) done();
          });
          sockets.push(sock);
        }),
    ),
  );
  return { closed: () => closed, allClosed };
}

describe("slow clients", () => {
  it("caps connections per address at accept, and answers valid requests while the capped ones are held open", async () => {
    // A headers timeout far longer than the test: the slow connections are open for all of it.
    const s = await serve({
      limits: {
        headersTimeoutMs: 300_000,
        requestTimeoutMs: 300_000,
        maxConnectionsPerAddress: 20,
        maxConnections: 200,
      },
    });
    const [v1] = makeChain(key, 1);
    expect((await put(s.url, v1!, '"0"')).status).toBe(201);
    const N = 120;
    // From another loopback address than the valid requests: half send a partial request line, half nothing.
    const slow = await openIdle(s.url, N, "127.0.0.2", (i) => i % 2 === 0);
    // Those over the per-address cap are refused at accept (the server's counter says so) and closed.
    await untilMetric(s.url, 'strata_connections_refused_total{reason="per-address"}', (v) => v === N - 20);
    while (slow.closed() < N - 20) await new Promise((r) => setImmediate(r));
    // The 20 accepted ones are open (the server's gauge counts them), and a valid request is answered, at once.
    expect(await metric(s.url, "strata_open_connections")).toBeGreaterThanOrEqual(20);
    const answered = await fetch(`${s.url}/v1/environments/staging/snapshot`);
    expect(answered.status).toBe(200);
    expect((await fetch(`${s.url}/healthz`)).status).toBe(200);
    // ... while those 20 were still held open: none of them had closed when the answer came.
    expect(slow.closed()).toBe(N - 20);
  });

  it("closes a connection that never finishes its headers when the headers timeout passes: none stays", async () => {
    const s = await serve({ limits: { headersTimeoutMs: 1_500, maxConnectionsPerAddress: 20, maxConnections: 200 } });
    const slow = await openIdle(s.url, 20, "127.0.0.2", (i) => i % 2 === 0);
    // Each one's close event: were any left open, this would never resolve and the test would time out.
    await slow.allClosed;
    // None was refused at accept (the counter has no sample): each was closed by the timeout.
    expect(await metric(s.url, 'strata_connections_refused_total{reason="per-address"}')).toBeNaN();
  });
});

describe("unknown environment names", () => {
  it("leave no state behind: not after a GET, a long-poll, or an event stream", async () => {
    const s = await serve();
    const [v1] = makeChain(key, 1);
    await put(s.url, v1!, '"0"');
    for (let i = 0; i < 300; i++)
      expect((await fetch(`${s.url}/v1/environments/never-${i}/snapshot`)).status).toBe(404);
    expect((await fetch(`${s.url}/v1/environments/never-x/snapshot?wait=0.2`)).status).toBe(404);
    const ac = new AbortController();
    const stream = await fetch(`${s.url}/v1/environments/never-y/events`, { signal: ac.signal });
    expect(stream.status).toBe(200);
    expect(await metric(s.url, 'strata_watchers{kind="sse"}')).toBe(1);
    expect(await metric(s.url, "strata_tracked_environments")).toBe(2);
    ac.abort();
    await stream.body?.cancel().catch(() => undefined);
    // Once the server has seen the stream close (its gauge), only the published environment is tracked.
    await untilMetric(s.url, 'strata_watchers{kind="sse"}', (v) => v === 0);
    expect(await metric(s.url, "strata_tracked_environments")).toBe(1);
    // A long-poll on a name published meanwhile is woken by the publish: the server holds it (its gauge)
    // before the PUT, so the answer can only be the version published after it.
    const waiting = fetch(`${s.url}/v1/environments/later/snapshot?wait=30`);
    await untilMetric(s.url, 'strata_watchers{kind="longpoll"}', (v) => v === 1);
    const [l1] = makeChain(key, 1, "later");
    expect((await put(s.url, l1!, '"0"')).status).toBe(201);
    const woken = await waiting;
    expect(woken.status).toBe(200);
    expect(((await woken.json()) as { environment: string; version: number }).version).toBe(1);
  });
});

describe("fleet status", () => {
  it("records clients only from snapshot and events reads, per environment, service and instance", async () => {
    const s = await serve();
    for (const env of ["staging", "production"])
      for (const v of makeChain(key, 2, env)) await put(s.url, v, `"${v.version - 1}"`);
    const get = (path: string, header: string) => fetch(`${s.url}${path}`, { headers: { "strata-client": header } });
    await get("/v1/environments/staging/snapshot", "service=api; instance=i-1; version=2; kind=sdk");
    // The same header on /v1/status does not rewrite the version; on another environment it is another record.
    await get("/v1/status", "service=api; instance=i-1; version=1; kind=sdk");
    await get("/v1/environments/production/snapshot", "service=api; instance=i-1; version=1; kind=agent");
    // History is not a snapshot read: not recorded.
    await get("/v1/environments/staging/history", "service=history-reader; instance=h; version=9");
    // Control characters (C0 and C1) are stripped; a rejection is recorded with its reason.
    // C0 controls are refused by the HTTP parser itself; C1 controls (bytes 0x80-0x9f) get through and are stripped.
    expect(
      await rawRequest(s.url, "/v1/environments/staging/snapshots/1", "service=evil\u001b[2J; instance=x; version=1"),
    ).toMatch(/^HTTP\/1.1 400/);
    await rawRequest(
      s.url,
      "/v1/environments/staging/snapshots/1",
      "service=evil\u009b2J\u009b31m; instance=x\u0085y; version=1; rejected=2; reason=invalid-signature",
    );
    const status = (await (await fetch(`${s.url}/v1/status`)).json()) as {
      environments: { environment: string; clients: Record<string, number> }[];
      clients: Record<string, unknown>[];
    };
    expect(status.clients).toMatchObject([
      {
        environment: "production",
        service: "api",
        instance: "i-1",
        kind: "agent",
        version: 1,
        connected: false,
        rejected: null,
      },
      {
        environment: "staging",
        service: "api",
        instance: "i-1",
        kind: "sdk",
        version: 2,
        connected: false,
        rejected: null,
      },
      {
        environment: "staging",
        service: "evil2J31m",
        instance: "xy",
        kind: null,
        version: 1,
        rejected: { version: 2, reason: "invalid-signature" },
      },
    ]);
    for (const c of status.clients)
      for (const f of ["since", "lastSeen"]) expect(Date.parse(c[f] as string)).not.toBeNaN();
    expect(status.environments.find((e) => e.environment === "staging")!.clients).toEqual({ 1: 1, 2: 1 });
    // An open event stream shows as connected.
    const ac = new AbortController();
    const stream = await fetch(`${s.url}/v1/environments/staging/events`, {
      headers: { "strata-client": "service=api; instance=i-1; version=2" },
      signal: ac.signal,
    });
    const connected = (await (await fetch(`${s.url}/v1/status`)).json()) as {
      clients: { environment: string; service: string; connected: boolean }[];
    };
    expect(connected.clients.find((c) => c.environment === "staging" && c.service === "api")!.connected).toBe(true);
    ac.abort();
    await stream.body?.cancel().catch(() => undefined);
  });

  it("records nothing for a token that may not read the environment", async () => {
    const dir = tempdir();
    const file = `${dir}/tokens.json`;
    const { token: pushAll } = await createToken(file, { scopes: ["push:*"], name: "ci" });
    const { token: readProd } = await createToken(file, { scopes: ["read:production", "push:never"] });
    const s = await serve({ tokens: await readTokens(file) });
    for (const v of makeChain(key, 1)) await put(s.url, v, '"0"', pushAll);
    const r = await fetch(`${s.url}/v1/environments/staging/snapshot`, {
      headers: { authorization: `Bearer ${readProd}`, "strata-client": "service=spy; instance=1; version=1" },
    });
    expect(r.status).toBe(403);
    const status = (await (
      await fetch(`${s.url}/v1/status`, { headers: { authorization: `Bearer ${pushAll}` } })
    ).json()) as { clients: unknown[] };
    expect(status.clients).toEqual([]);
  });

  it("is bounded and strips control characters", () => {
    const t = new ClientTracker(3);
    for (let i = 0; i < 10; i++) t.touch(`service=s${i}; instance=i; version=1`, "staging");
    expect(t.size).toBe(3);
    expect(t.list().map((c) => c.service)).toEqual(["s7", "s8", "s9"]);
    expect(sanitizeClientField("a\u0000b\u001fc\u007fd\u0085e\u009ff" + "x".repeat(300))).toBe(
      "abcdef" + "x".repeat(122),
    );
    // `since` moves only when the version changes.
    const u = new ClientTracker();
    u.touch("service=a; instance=1; version=1", "staging", new Date("2026-01-01T00:00:00Z"));
    u.touch("service=a; instance=1; version=1", "staging", new Date("2026-01-01T00:01:00Z"));
    u.touch("service=a; instance=1; version=2", "staging", new Date("2026-01-01T00:02:00Z"));
    const [rec] = u.list(Date.parse("2026-01-01T00:03:00Z"));
    expect(rec).toMatchObject({ version: 2, since: "2026-01-01T00:02:00.000Z", lastSeen: "2026-01-01T00:02:00.000Z" });
  });

  it("dates a switch a client tells of later by its `running`, at most 10 s back; the propagation sample too", () => {
    const moved: string[] = [];
    const t = new ClientTracker(undefined, { moved: (r) => moved.push(`${r.instance}@${r.version} since ${r.since}`) });
    const at = (s: number) => new Date(Date.parse("2026-01-01T00:00:00Z") + s * 1000);
    t.touch("service=a; instance=1; version=1; kind=sdk", "staging", at(0));
    t.touch("service=a; instance=2; version=1; kind=sdk", "staging", at(0));
    // The SDK switched to v2 at 60 s and told the endpoint 1.5 s later.
    t.touch("service=a; instance=1; version=2; kind=sdk; running=1500", "staging", at(61.5));
    // A client cannot date its switch more than 10 s back, whatever it says.
    t.touch("service=a; instance=2; version=2; kind=sdk; running=3600000", "staging", at(120));
    expect(moved).toEqual(["1@2 since 2026-01-01T00:01:00.000Z", "2@2 since 2026-01-01T00:01:50.000Z"]);
    // On the same version, `running` changes nothing.
    t.touch("service=a; instance=1; version=2; kind=sdk; running=9000", "staging", at(130));
    expect(t.list(Date.parse("2026-01-01T00:03:00Z")).find((r) => r.instance === "1")?.since).toBe(
      "2026-01-01T00:01:00.000Z",
    );
  });
});

describe("names", () => {
  it("answers 404, never 500, for overlong environment names", async () => {
    const s = await serve();
    for (const name of ["a".repeat(5000), "a".repeat(65)]) {
      for (const path of ["snapshot", "history", "events", "snapshots/1"]) {
        const r = await fetch(`${s.url}/v1/environments/${name}/${path}`);
        expect(r.status, `${name.length} ${path}`).toBe(404);
        expect(((await r.json()) as { error: { code: string } }).error.code).toBe("unknown-environment");
      }
    }
    const [v] = makeChain(key, 1, "a".repeat(64));
    expect((await put(s.url, v!, '"0"')).status).toBe(201);
  });
});

describe("DNS rebinding", () => {
  it("without tokens answers only loopback Host names", async () => {
    const s = await serve();
    const port = new URL(s.url).port;
    for (const host of [
      `evil.example:${port}`,
      "evil.example",
      `localhost.evil.example:${port}`,
      `127.0.0.1:${Number(port) + 1}`,
    ]) {
      for (const path of [
        "/v1/status",
        "/v1/audit",
        "/v1/environments/staging/snapshot",
        "/v1/environments/staging/history",
      ]) {
        const r = await rawGet(s.url, path, host);
        expect(r.status, `${host} ${path}`).toBe(421);
        expect(JSON.parse(r.body)).toMatchObject({ error: { code: "access-denied" } });
      }
    }
    for (const host of [`localhost:${port}`, `127.0.0.1:${port}`, `LOCALHOST:${port}`])
      expect((await rawGet(s.url, "/v1/status", host)).status).toBe(200);
    expect((await rawGet(s.url, "/healthz", "evil.example")).status).toBe(200);
  });

  it("with tokens any Host is answered (the token is the protection)", async () => {
    const file = `${tempdir()}/tokens.json`;
    const { token } = await createToken(file, { scopes: ["admin"] });
    const s = await serve({ tokens: await readTokens(file) });
    const u = new URL(s.url);
    const r = await new Promise<number>((resolve, reject) => {
      request(
        {
          host: u.hostname,
          port: u.port,
          path: "/v1/status",
          headers: { host: "config.example.com", authorization: `Bearer ${token}` },
        },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      )
        .on("error", reject)
        .end();
    });
    expect(r).toBe(200);
  });
});

describe("an event stream's reader that stops reading", () => {
  it("is closed once it falls 1 MiB behind; the server's memory is not its buffer", async () => {
    // Snapshots of 40 KB ride inside their events; the server keeps at most 1 MiB unread per stream beyond
    // what the kernel's socket buffers hold.
    const s = await serve();
    const big = (v: number): Record<string, JsonObject> => ({ app: { blob: `${v}`.padEnd(40_000, "x") } });
    let previous: string | null = null;
    let version = 0;
    const publish = async (): Promise<void> => {
      version++;
      const snap = makeSnapshot(key, { version, previous, config: big(version) });
      expect((await put(s.url, snap, `"${version - 1}"`)).status).toBe(201);
      previous = snap.digest;
    };
    await publish();
    const u = new URL(s.url);
    // The stalled reader: it asks for snapshots inside the events, reads the head, then nothing more.
    const stalled = connect({ host: u.hostname, port: Number(u.port) });
    sockets.push(stalled);
    const head = await new Promise<string>((resolve) => {
      stalled.once("data", (d: Buffer) => {
        stalled.pause();
        resolve(d.toString("latin1"));
      });
      stalled.write(
        `GET /v1/environments/staging/events?snapshot=inline HTTP/1.1\r\nHost: ${u.host}\r\nAccept: text/event-stream\r\n\r\n`,
      );
    });
    expect(head).toMatch(/^HTTP\/1\.1 200 /);
    // A reader that keeps up, on another connection: it gets every version while the other stalls.
    const ac = new AbortController();
    const live = await fetch(`${s.url}/v1/environments/staging/events`, { signal: ac.signal });
    await untilMetric(s.url, 'strata_watchers{kind="sse"}', (v) => v === 2);
    // Publish until the server has closed the stalled stream (its gauge), at most ~400 × 40 KB (16 MB: far
    // more than loopback's socket buffers hold).
    while ((await metric(s.url, 'strata_watchers{kind="sse"}')) === 2) {
      expect(version).toBeLessThan(400);
      await publish();
    }
    expect(await metric(s.url, 'strata_watchers{kind="sse"}')).toBe(1);
    expect(s.logs.some((l) => l.includes("event stream closed: its reader fell behind"))).toBe(true);
    // The reader that kept up has the newest version.
    const events = await readEvents(live, (es) => es.some((e) => e.id === String(version)));
    expect(events.at(-1)?.id).toBe(String(version));
    ac.abort();
    // The stalled reader, once it reads again, finds its stream ended (and reconnects with Last-Event-ID).
    const ended = new Promise<void>((resolve) => stalled.once("close", () => resolve()));
    stalled.on("error", () => undefined).resume();
    await ended;
  });
});

describe("event stream wire format", () => {
  it("ends with the connection, unchunked: each frame is written as it is", async () => {
    const s = await serve();
    const [v1] = makeChain(key, 1);
    await put(s.url, v1!, '"0"');
    const u = new URL(s.url);
    const sock = connect({ host: u.hostname, port: Number(u.port) });
    sockets.push(sock);
    let text = "";
    await new Promise<void>((resolve) => {
      sock.on("data", (d: Buffer) => {
        text += d.toString("latin1");
        // (Chunk sizes, if any, taken out only to know when the event is complete.)
        if (/\nid: 1\ndata: [^\n]*\n\n/.test(text.replace(/\r\n[0-9a-f]+\r\n/g, ""))) resolve();
      });
      sock.write(`GET /v1/environments/staging/events HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`);
    });
    const [head, body] = text.split("\r\n\r\n") as [string, string];
    expect(head.toLowerCase()).toContain("connection: close");
    expect(head.toLowerCase()).not.toContain("transfer-encoding");
    expect(head.toLowerCase()).not.toContain("content-length");
    // The body is the event stream itself, no chunk sizes between frames.
    expect(body).toMatch(/^retry: \d+\n\nevent: snapshot\nid: 1\ndata: \{[^\n]*\}\n\n$/);
  });
});
