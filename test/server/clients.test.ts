// @module-tag e2e
// The fleet records the endpoint keeps from the Strata-Client header: what the SDK sends reaches
// `/v1/status` intact (the real `strata serve`, the built CLI, on a file store); `GET /v1/events` tells every
// environment's versions and every change of a record (the endpoint in process, its heartbeat shortened);
// a connected client's lastSeen moves with the heartbeat.
import { join } from "node:path";
import { afterEach, describe, expect, it, vi } from "vitest";
import { createClient, type StrataClient } from "../../src/client/index.js";
import {
  EventStreamParser,
  type ClientRecord,
  type StatusDocument,
  type StreamEvent,
} from "../../src/core/protocol/index.js";
import { createToken, readTokens } from "../../src/server/index.js";
import { startEndpoint, type Endpoint } from "../client/support.js";
import { etcdMissing, startEtcd, type EtcdHandle } from "../support/etcd.js";
import { tempdir } from "../support/gitdir.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import { put, startTestServer, type TestServer } from "../support/server.js";
import { makeChain, newKey } from "../support/snapshots.js";

const endpoints: Endpoint[] = [];
const clients: StrataClient<Record<string, unknown>>[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const e of endpoints.splice(0)) await e.stop();
});

async function endpoint(): Promise<Endpoint> {
  const ep = await startEndpoint();
  endpoints.push(ep);
  return ep;
}

async function status(url: string): Promise<StatusDocument> {
  const res = await fetch(`${url}/v1/status`);
  expect(res.status).toBe(200);
  return (await res.json()) as StatusDocument;
}

describe("client names", () => {
  it("an SDK named beyond Latin-1 (東京, zürich) reaches /v1/status intact", async () => {
    const ep = await endpoint();
    await ep.publish({ app: { name: "x" } });
    const c = await createClient({
      endpoint: ep.url,
      environment: "staging",
      service: "東京",
      instance: "zürich-😀",
      trustedKeys: [ep.publicKey],
    });
    clients.push(c);
    expect(c.version).toBe(1);
    const doc = await status(ep.url);
    expect(doc.clients).toEqual([
      expect.objectContaining({
        environment: "staging",
        service: "東京",
        instance: "zürich-😀",
        version: 1,
        kind: "sdk",
      }),
    ]);
  });
});

/** An event stream read as it arrives: `next` waits for the first event (after those taken) that matches. */
interface Stream {
  next(match: (e: StreamEvent) => boolean, what: string): Promise<StreamEvent>;
  /** Every event so far. */
  events: StreamEvent[];
  close(): void;
}

async function openStream(url: string, headers: Record<string, string> = {}): Promise<Stream> {
  const ctrl = new AbortController();
  const res = await fetch(url, { headers, signal: ctrl.signal });
  expect(res.status).toBe(200);
  expect(res.headers.get("content-type")).toBe("text/event-stream");
  const parser = new EventStreamParser();
  const events: StreamEvent[] = [];
  let taken = 0;
  let wake: () => void = () => undefined;
  let ended = false;
  void (async () => {
    const decoder = new TextDecoder();
    try {
      for await (const chunk of res.body!) {
        events.push(...parser.push(decoder.decode(chunk as Uint8Array, { stream: true })));
        wake();
      }
    } catch {
      // aborted
    }
    ended = true;
    wake();
  })();
  return {
    events,
    async next(match, what) {
      // A bound on a wait that would otherwise hang the test: the failure names what never came.
      const deadline = Date.now() + 20_000;
      for (;;) {
        if (Date.now() > deadline)
          throw new Error(`no ${what} in ${JSON.stringify(events.map((e) => [e.event, e.data]))}`);
        while (taken < events.length) {
          const e = events[taken++]!;
          if (match(e)) return e;
        }
        if (ended) throw new Error(`the stream ended before ${what}`);
        const late = setTimeout(() => wake(), 1_000);
        await new Promise<void>((resolve) => (wake = resolve));
        clearTimeout(late);
      }
    },
    close: () => ctrl.abort(),
  };
}

const isClient = (service: string, test: (r: ClientRecord) => boolean) => (e: StreamEvent) =>
  e.event === "client" && (JSON.parse(e.data) as ClientRecord).service === service && test(JSON.parse(e.data));

describe("GET /v1/events", () => {
  const { key } = newKey();
  const servers: TestServer[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await s.server.close();
  });

  it("carries every environment the token may read, then a heartbeat, new versions and fleet record changes", async () => {
    const file = join(tempdir(), "tokens.json");
    const stagingReader = (await createToken(file, { scopes: ["read:staging"], name: "staging-reader" })).token;
    const pusher = (await createToken(file, { scopes: ["push:*", "read:*"], name: "pusher" })).token;
    const s = await startTestServer({
      trustedKeys: [key.publicKey],
      tokens: await readTokens(file),
      limits: { heartbeatMs: 200 },
    });
    servers.push(s);
    const [s1, s2] = makeChain(key, 2, "staging");
    const [p1, p2] = makeChain(key, 2, "production");
    expect((await put(s.url, s1!, '"0"', pusher)).status).toBe(201);
    expect((await put(s.url, p1!, '"0"', pusher)).status).toBe(201);
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });

    const all = await openStream(`${s.url}/v1/events`, auth(pusher));
    const staging = await openStream(`${s.url}/v1/events`, auth(stagingReader));
    // On connect: each environment's current version, then a heartbeat (what follows is news). No ids.
    const first = await all.next((e) => e.event === "heartbeat", "the first heartbeat");
    expect(all.events.slice(0, all.events.indexOf(first)).map((e) => [e.event, e.id, JSON.parse(e.data)])).toEqual(
      expect.arrayContaining([
        ["snapshot", null, { environment: "staging", version: 1, digest: s1!.digest }],
        ["snapshot", null, { environment: "production", version: 1, digest: p1!.digest }],
      ]),
    );
    expect(Date.parse((JSON.parse(first.data) as { at: string }).at)).not.toBeNaN();
    await staging.next((e) => e.event === "heartbeat", "the first heartbeat");
    // Heartbeats go on while nothing happens.
    await all.next((e) => e.event === "heartbeat", "a second heartbeat");

    expect((await put(s.url, p2!, '"1"', pusher)).status).toBe(201);
    expect((await put(s.url, s2!, '"1"', pusher)).status).toBe(201);
    await all.next((e) => e.event === "snapshot" && JSON.parse(e.data).environment === "production", "production v2");
    await all.next((e) => e.event === "snapshot" && JSON.parse(e.data).environment === "staging", "staging v2");

    // A client connects (an event stream of its own), moves, refuses, and disconnects: each is told.
    const client = (version: number, extra = "") => ({
      ...auth(pusher),
      "strata-client": `service=api; instance=i-1; version=${version}; kind=sdk${extra}`,
    });
    const sdk = await openStream(`${s.url}/v1/environments/staging/events`, client(1));
    await all.next(
      isClient("api", (r) => r.version === 1 && r.connected),
      "api connected at v1",
    );
    await fetch(`${s.url}/v1/environments/staging/snapshot`, { headers: client(2), method: "HEAD" });
    await all.next(
      isClient("api", (r) => r.version === 2 && r.connected),
      "api moved to v2",
    );
    await fetch(`${s.url}/v1/environments/staging/snapshot`, {
      method: "HEAD",
      headers: client(2, "; rejected=3; reason=invalid-signature"),
    });
    await all.next(
      isClient("api", (r) => r.rejected?.reason === "invalid-signature" && r.state === "refusing"),
      "api's refusal",
    );
    sdk.close();
    await all.next(
      isClient("api", (r) => !r.connected),
      "api disconnected",
    );

    // A production client is not told to the staging reader; staging's are.
    await fetch(`${s.url}/v1/environments/production/snapshot`, {
      method: "HEAD",
      headers: { ...auth(pusher), "strata-client": "service=prod-only; instance=p; version=2" },
    });
    await all.next(
      isClient("prod-only", () => true),
      "prod-only",
    );
    await staging.next(
      isClient("api", (r) => !r.connected),
      "api disconnected (staging reader)",
    );
    await staging.next((e) => e.event === "heartbeat", "a heartbeat after it");
    expect(staging.events.some((e) => e.data.includes("production"))).toBe(false);
    all.close();
    staging.close();
  });

  it("answers 401 without a token when tokens are configured", async () => {
    const file = join(tempdir(), "tokens.json");
    await createToken(file, { scopes: ["read:*"], name: "r" });
    const s = await startTestServer({ trustedKeys: [key.publicKey], tokens: await readTokens(file) });
    servers.push(s);
    expect((await fetch(`${s.url}/v1/events`)).status).toBe(401);
  });
});

describe("lastSeen of a connected client", () => {
  const { key } = newKey();
  it("moves with the heartbeat while its stream is open, and is the time it closed afterwards", async () => {
    const s = await startTestServer({ trustedKeys: [key.publicKey], limits: { heartbeatMs: 100 } });
    try {
      const [v1] = makeChain(key, 1);
      expect((await put(s.url, v1!, '"0"')).status).toBe(201);
      const sdk = await openStream(`${s.url}/v1/environments/staging/events`, {
        "strata-client": "service=streamer; instance=s-1; version=1; kind=sdk",
      });
      await sdk.next((e) => e.event === "snapshot", "v1");
      const seen = async () => (await status(s.url)).clients.find((c) => c.service === "streamer")!;
      const opened = await seen();
      expect(opened.connected).toBe(true);
      // Not "last heard when the request started": the heartbeat refreshes it while the stream is open.
      await vi.waitFor(
        async () => expect(Date.parse((await seen()).lastSeen)).toBeGreaterThan(Date.parse(opened.lastSeen)),
        {
          timeout: 10_000,
          interval: 50,
        },
      );
      sdk.close();
      await vi.waitFor(async () => expect((await seen()).connected).toBe(false), { timeout: 10_000, interval: 50 });
      const closed = await seen();
      expect(Date.parse(closed.lastSeen)).toBeGreaterThanOrEqual(Date.parse(opened.lastSeen));
    } finally {
      await s.server.close();
    }
  });
});

describe("two servers on one store", () => {
  const extra: ServeProcess[] = [];
  let etcd: EtcdHandle | null = null;
  afterEach(async () => {
    for (const p of extra.splice(0)) await p.stop();
    await etcd?.stop();
    etcd = null;
  });

  /** Reads staging through `url` as a client named so. */
  async function read(url: string, service: string, instance: string, version: number): Promise<void> {
    const r = await fetch(`${url}/v1/environments/staging/snapshot`, {
      headers: { "strata-client": `service=${service}; instance=${instance}; version=${version}; kind=sdk` },
    });
    expect(r.status).toBe(200);
    await r.body?.cancel();
  }

  const names = (doc: StatusDocument) => doc.clients.map((c) => `${c.service}/${c.instance}@v${c.version}`).sort();

  it.each([["file"], ["etcd"]] as const)(
    "each one's /v1/status and event stream show every client, whichever server it asks (%s store)",
    async (kind) => {
      if (kind === "etcd" && etcdMissing) return;
      let store: string | undefined;
      if (kind === "etcd") {
        etcd = await startEtcd();
        store = `etcd://${etcd.hostPort}/strata-fleet-${Date.now()}`;
      }
      const a = await startEndpoint(store === undefined ? {} : { store });
      endpoints.push(a);
      const b = await spawnServe(["--store", a.store, "--trusted-keys", a.keysFile]);
      extra.push(b);
      await a.publish({ app: { name: "x" } });
      const streamA = await openStream(`${a.url}/v1/events`);
      await streamA.next((e) => e.event === "heartbeat", "the first heartbeat");
      await read(a.url, "api", "on-a", 1);
      await read(b.url, "api", "on-b", 1);
      // Readiness by signal: each server's answer lists both (the records travel through the store).
      for (const url of [a.url, b.url])
        await vi.waitFor(async () => expect(names(await status(url))).toEqual(["api/on-a@v1", "api/on-b@v1"]), {
          timeout: 30_000,
          interval: 100,
        });
      // A's dashboard stream hears of a client that only B saw.
      await streamA.next(
        isClient("api", (r) => r.instance === "on-b"),
        "B's client on A's stream",
      );
      // A client that moved is one record, its newest, on both.
      await read(b.url, "api", "on-a", 1);
      await read(a.url, "api", "on-b", 1);
      await a.publish({ app: { name: "y" } });
      await read(b.url, "api", "on-a", 2);
      for (const url of [a.url, b.url])
        await vi.waitFor(async () => expect(names(await status(url))).toEqual(["api/on-a@v2", "api/on-b@v1"]), {
          timeout: 30_000,
          interval: 100,
        });
      await streamA.next(
        isClient("api", (r) => r.instance === "on-a" && r.version === 2),
        "on-a at v2 on A's stream",
      );
      // B stops: its records go with it (it deletes them); A's own stay.
      await read(a.url, "api", "on-a", 2);
      await b.stop();
      await vi.waitFor(async () => expect(names(await status(a.url))).toEqual(["api/on-a@v2", "api/on-b@v1"]), {
        timeout: 30_000,
        interval: 100,
      });
      streamA.close();
    },
  );
});
