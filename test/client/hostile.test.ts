// @module-tag e2e
// The SDK against endpoints that replay, forge, flood or nest: against the real `strata serve` where it can
// be made to serve the case (expired snapshots, unknown environments, refusals it records), and against a
// hostile local HTTP endpoint for what the real one never sends (forged events, endless bodies, deep JSON).
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createClient, StrataClient, StrataClientError, type ClientOptions } from "../../src/client/index.js";
import type { StatusDocument } from "../../src/core/protocol/index.js";
import { serializeSnapshot, type Snapshot } from "../../src/core/snapshot/index.js";
import { tempdir } from "../support/gitdir.js";
import { newKey } from "../support/snapshots.js";
import { openEventStream, sendJson, sendText, startHostileEndpoint } from "./hostile-endpoint.js";
import { cleanUpAfterEach, signSnapshot, startEndpoint, testBackoff, waitFor, type Endpoint } from "./support.js";

const { endpoints, clients } = cleanUpAfterEach();

const base = { app: { name: "demo", replicas: 2 } };
const DAY = 24 * 3600 * 1000;
/** A snapshot that expired a year ago (signed then, valid for a week). */
const longAgo = (): { createdAt: Date; expiresAt: Date } => ({
  createdAt: new Date(Date.now() - 372 * DAY),
  expiresAt: new Date(Date.now() - 365 * DAY),
});

async function endpoint(): Promise<Endpoint> {
  const ep = await startEndpoint();
  endpoints.push(ep);
  return ep;
}

/** A client whose errors are collected from the start (listeners attached before `ready()`). */
async function client(options: ClientOptions): Promise<{ c: StrataClient; errors: StrataClientError[] }> {
  const c = new StrataClient({ backoff: testBackoff, timeoutMs: 60_000, ...options });
  clients.push(c);
  const errors: StrataClientError[] = [];
  c.on("error", (e) => errors.push(e));
  await c.ready();
  return { c, errors };
}

async function status(ep: Endpoint): Promise<StatusDocument> {
  return (await (await fetch(`${ep.url}/v1/status`)).json()) as StatusDocument;
}

function cacheFileWith(snapshot: Snapshot): string {
  const file = join(tempdir("strata-sdk-hostile-"), "cache.json");
  writeFileSync(file, serializeSnapshot(snapshot), { mode: 0o600 });
  return file;
}

describe("expired snapshots", () => {
  it("a new instance without a cache file refuses the endpoint's expired snapshot (expired) and the endpoint shows the refusal", async () => {
    const ep = await endpoint();
    await ep.publish(base, longAgo());
    const err = await createClient({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      instance: "new-pod",
      trustedKeys: [ep.publicKey],
      timeoutMs: 60_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StrataClientError);
    expect((err as StrataClientError).code).toBe("expired");
    expect((err as Error).message).toMatch(/v1 .*expired/);
    // Reported on the first load, before ready() rejected: the fleet status names the refusal.
    const rec = (await status(ep)).clients.find((r) => r.instance === "new-pod");
    expect(rec).toMatchObject({ service: "svc", version: 0, rejected: { version: 1, reason: "expired" } });
  });

  it("falls back to a valid cache file; a running client refuses an expired version; allowExpired takes it", async () => {
    const ep = await endpoint();
    const v1 = await ep.publish(base);
    await ep.publish({ app: { name: "demo", replicas: 3 } }, longAgo());
    const { c, errors } = await client({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [ep.publicKey],
      cacheFile: cacheFileWith(v1),
    });
    expect(c.version).toBe(1);
    expect(c.get("app.replicas")).toBe(2);
    expect(c.source).toBe("cache");
    expect(errors.map((e) => e.code)).toEqual(["expired"]);
    expect(c.lastRejected).toEqual({ version: 2, reason: "expired" });

    // While running: a newly published expired version is refused too; the one in use stays.
    const { c: running, errors: runningErrors } = await client({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [ep.publicKey],
      allowExpired: true,
    });
    expect(running.version).toBe(2);
    expect(running.isStale()).toBe(true);
    await ep.publish({ app: { name: "demo", replicas: 4 } }, longAgo());
    await waitFor(() => errors.find((e) => e.version === 3), "the refusal of v3");
    expect(errors.at(-1)?.code).toBe("expired");
    expect(c.version).toBe(1);
    // allowExpired (a disconnected site): taken, and stale at once.
    await waitFor(() => running.version === 3, "v3 with allowExpired");
    expect(runningErrors).toEqual([]);
  });
});

describe("the Last-Event-ID rule", () => {
  it("a forged event id and a refused body claiming a huge version do not stop later publishes; ids above the version bound are not fetched", async () => {
    const { key } = newKey();
    const other = newKey().key;
    const v1 = signSnapshot(key, { environment: "staging", version: 1, previous: null, config: base });
    const v2 = signSnapshot(key, {
      environment: "staging",
      version: 2,
      previous: v1.digest,
      config: { app: { name: "demo", replicas: 5 } },
    });
    const forged = signSnapshot(other, {
      environment: "staging",
      version: 2 ** 31,
      previous: v1.digest,
      config: base,
    });
    const ep = await startHostileEndpoint((req, res, path) => {
      if (path.endsWith("/events")) return openEventStream(res);
      if (path.endsWith("/snapshot")) {
        if (req.headers["if-none-match"] !== undefined) return void res.writeHead(304).end();
        return sendText(res, serializeSnapshot(v1));
      }
      if (path.endsWith("/snapshots/3")) return sendText(res, serializeSnapshot(forged));
      if (path.endsWith("/snapshots/2")) return sendText(res, serializeSnapshot(v2));
      sendJson(res, 404, { error: { code: "not-found", message: "no such version" } });
    });
    const { c, errors } = await client({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [key.publicKey.text],
      transport: "events",
    });
    const stream = await waitFor(() => ep.streams.at(-1), "the event stream");
    stream.write(`event: snapshot\nid: ${2 ** 31 + 1}\ndata: {}\n\n`);
    stream.write(`event: snapshot\nid: 3\ndata: {}\n\n`);
    await waitFor(() => errors.find((e) => e.code === "invalid-signature"), "the forged body's refusal");
    ep.streams.at(-1)!.write(`event: snapshot\nid: 2\ndata: {}\n\n`);
    await waitFor(() => c.version === 2, "v2 after the forgeries");
    expect(c.get("app.replicas")).toBe(5);
    expect(ep.requests.map((r) => r.path)).not.toContain(`/v1/environments/staging/snapshots/${2 ** 31 + 1}`);
  });
});

describe("what the client reads is bounded", () => {
  it("an event that never ends is cut at 1 MiB: the client drops the stream and reconnects", async () => {
    const { key } = newKey();
    const v1 = signSnapshot(key, { environment: "staging", version: 1, previous: null, config: base });
    let flooded = 0;
    const ep = await startHostileEndpoint((req, res, path) => {
      if (path.endsWith("/events")) {
        openEventStream(res);
        if (flooded++ > 0) return;
        // 4 MiB of one data line, written as fast as the client reads it, without a line end.
        res.write("event: snapshot\nid: 2\ndata: ");
        const chunk = "x".repeat(64 * 1024);
        let sent = 0;
        const more = (): void => {
          while (sent < 64 && !res.destroyed) {
            sent++;
            if (!res.write(chunk)) return void res.once("drain", more);
          }
        };
        more();
        return;
      }
      if (req.headers["if-none-match"] !== undefined) return void res.writeHead(304).end();
      sendText(res, serializeSnapshot(v1));
    });
    const { c } = await client({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [key.publicKey.text],
      transport: "events",
    });
    const reasons: string[] = [];
    c.on("reconnect", (e) => reasons.push(e.reason));
    await waitFor(() => ep.closedStreams >= 1, "the client dropping the flooding stream");
    await waitFor(() => reasons.length >= 1, "a reconnect");
    expect(reasons[0]).toMatch(/1 MiB/);
    await waitFor(() => flooded >= 2, "the second stream");
    expect(c.version).toBe(1);
  });

  it("a trickle of bytes that never completes an event or keep-alive does not keep a stream alive (45 s)", async () => {
    const { key } = newKey();
    const v1 = signSnapshot(key, { environment: "staging", version: 1, previous: null, config: base });
    let streams = 0;
    const ep = await startHostileEndpoint((req, res, path) => {
      if (path.endsWith("/events")) {
        openEventStream(res);
        if (streams++ > 0) return;
        // One byte a second of a comment line that never ends: bytes arrive, no block completes.
        res.write(":");
        const t = setInterval(() => res.write("."), 1000);
        res.once("close", () => clearInterval(t));
        return;
      }
      if (req.headers["if-none-match"] !== undefined) return void res.writeHead(304).end();
      sendText(res, serializeSnapshot(v1));
    });
    const { c } = await client({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [key.publicKey.text],
      transport: "events",
    });
    await waitFor(() => ep.closedStreams >= 1, "the client dropping the trickling stream", 150_000);
    await waitFor(() => streams >= 2, "the next stream");
    expect(c.version).toBe(1);
  });

  it("a body larger than maxBodyBytes is refused while it streams (invalid-snapshot) and the cache file is used", async () => {
    const { key } = newKey();
    const v1 = signSnapshot(key, { environment: "staging", version: 1, previous: null, config: base });
    const TOTAL = 256;
    let written = 0;
    const ep = await startHostileEndpoint((_req, res) => {
      // 16 MiB without a Content-Length, in 64 KiB pieces as the client reads them.
      res.writeHead(200, { "content-type": "application/json" });
      const chunk = Buffer.alloc(64 * 1024, 0x20);
      const more = (): void => {
        while (written < TOTAL && !res.destroyed) {
          written++;
          if (!res.write(chunk)) return void res.once("drain", more);
        }
        if (written >= TOTAL) res.end();
      };
      more();
    });
    const { c, errors } = await client({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [key.publicKey.text],
      cacheFile: cacheFileWith(v1),
      maxBodyBytes: 1024 * 1024,
      transport: "long-poll",
    });
    expect(c.version).toBe(1);
    expect(c.source).toBe("cache");
    expect(errors[0]?.code).toBe("invalid-snapshot");
    expect(errors[0]?.message).toContain("maxBodyBytes");
    expect(written).toBeLessThan(TOTAL);
  });

  it("refuses a maxBodyBytes that is not a positive integer", () => {
    expect(
      () =>
        new StrataClient({
          endpoint: "http://127.0.0.1:9",
          environment: "staging",
          service: "s",
          trustedKeys: [newKey().key.publicKey.text],
          maxBodyBytes: 0,
        }),
    ).toThrow(expect.objectContaining({ code: "invalid-argument" }));
  });
});

describe("deep JSON", () => {
  const DEPTH = 200_000;
  /** A snapshot-shaped document whose config nests DEPTH levels (what no repository can produce). */
  function deepSnapshotText(v1: Snapshot): string {
    const { config: _c, ...rest } = v1;
    const head = JSON.stringify({ ...rest, version: 2, previous: v1.digest });
    return `${head.slice(0, -1)},"config":{"app":${'{"a":'.repeat(DEPTH)}1${"}".repeat(DEPTH)}}}`;
  }

  it("from the endpoint: refused as invalid-snapshot and the cache file is used; in a cache file: refused, not a crash", async () => {
    const { key } = newKey();
    const v1 = signSnapshot(key, { environment: "staging", version: 1, previous: null, config: base });
    const deep = deepSnapshotText(v1);
    const ep = await startHostileEndpoint((_req, res) => sendText(res, deep));
    const { c, errors } = await client({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [key.publicKey.text],
      cacheFile: cacheFileWith(v1),
      transport: "long-poll",
    });
    expect(c.version).toBe(1);
    expect(errors[0]?.code).toBe("invalid-snapshot");
    expect(errors[0]?.message).toMatch(/nest/);

    const down = await startHostileEndpoint((_req, res) => sendJson(res, 503, { error: { code: "unreachable" } }));
    const tampered = join(tempdir("strata-sdk-deep-"), "cache.json");
    writeFileSync(tampered, deep);
    const err = await createClient({
      endpoint: down.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [key.publicKey.text],
      cacheFile: tampered,
      timeoutMs: 300,
      backoff: testBackoff,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StrataClientError);
    expect((err as Error).message).toContain("was rejected (invalid-snapshot)");
  });
});

describe("what the endpoint answers at once", () => {
  it("a wrong environment name fails at once with unknown-environment (the endpoint's 404), not after timeoutMs", async () => {
    const ep = await endpoint();
    await ep.publish(base);
    const err = await createClient({
      endpoint: ep.url,
      environment: "stagign",
      service: "svc",
      trustedKeys: [ep.publicKey],
      timeoutMs: 600_000,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StrataClientError);
    expect((err as StrataClientError).code).toBe("unknown-environment");
    expect((err as Error).message).toContain("stagign");
  });

  it("a running client's refusal reaches /v1/status without waiting for its next request", async () => {
    const other = newKey().key;
    const ep = await startEndpoint({ extraTrustedKeys: [other.publicKey.text] });
    endpoints.push(ep);
    await ep.publish(base);
    const { c, errors } = await client({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      instance: "refuser",
      trustedKeys: [ep.publicKey],
      transport: "events",
    });
    await ep.publish({ app: { name: "demo", replicas: 7 } }, { key: other });
    await waitFor(() => errors.find((e) => e.code === "invalid-signature"), "the refusal");
    // Polls the endpoint's own record (the signal is what the endpoint says), with no request of the client's
    // own in between: its event stream stays open and nothing else was published.
    let seen: StatusDocument["clients"][number] | undefined;
    await waitFor(() => {
      void status(ep)
        .then((s) => (seen = s.clients.find((r) => r.instance === "refuser")))
        .catch(() => undefined);
      return seen?.rejected;
    }, "the refusal in /v1/status");
    expect(seen).toMatchObject({ version: 1, rejected: { version: 2, reason: "invalid-signature" } });
    expect(c.version).toBe(1);
  });
});

describe("where the configuration came from", () => {
  it("source says cache to code that looks after createClient resolved; the first reconnect reaches late listeners; reconnected follows", async () => {
    const ep = await endpoint();
    const v1 = await ep.publish(base);
    await ep.stop();
    const c = await createClient({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [ep.publicKey],
      cacheFile: cacheFileWith(v1),
      timeoutMs: 300,
      backoff: testBackoff,
    });
    clients.push(c);
    const reconnects: number[] = [];
    const reconnected: { transport: string; version: number }[] = [];
    c.on("reconnect", (e) => reconnects.push(e.attempt));
    c.on("reconnected", (e) => reconnected.push(e));
    expect(c.source).toBe("cache");
    await waitFor(() => reconnects.length >= 1, "the first reconnect event");
    expect(reconnects[0]).toBe(1);
    await ep.start();
    await waitFor(() => reconnected.length >= 1, "the reconnected event");
    expect(reconnected[0]).toMatchObject({ transport: "events", version: 1 });
    expect(c.source).toBe("endpoint");
  });
});
