// @module-tag e2e
// Two `strata serve` on one etcd: each server holds one watch of the store, however many clients wait on it
// (event streams, long-polls, on one environment or several); every waiting client still gets each publish.
// Counted by etcd itself (its `etcd_debugging_mvcc_watcher_total` gauge), not by the server.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { etcdMissing, startEtcd, type EtcdHandle } from "../support/etcd.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import { put, readEvents, watchersReach } from "../support/server.js";
import { makeChain, newKey } from "../support/snapshots.js";

const { key } = newKey();
let etcd: EtcdHandle | null = null;
let trustedFile: string;
const running: ServeProcess[] = [];

beforeAll(async () => {
  trustedFile = join(tempdir(), "trusted.txt");
  writeFileSync(trustedFile, `${key.publicKey.text}\n`);
  if (!etcdMissing) etcd = await startEtcd();
});
afterAll(async () => {
  await Promise.all(running.splice(0).map((s) => s.stop("SIGKILL")));
  await etcd?.stop();
  cleanupTempdirs();
});

/** etcd's own count of open watches (all clients of it). */
async function etcdWatches(): Promise<number> {
  const text = await (await fetch(`http://${etcd!.hostPort}/metrics`)).text();
  const m = /^etcd_debugging_mvcc_watcher_total (\d+)$/m.exec(text);
  if (m === null) throw new Error("etcd's metrics have no etcd_debugging_mvcc_watcher_total");
  return Number(m[1]);
}

/** etcd's own count of reads (range requests) it has answered. */
async function etcdReads(): Promise<number> {
  const text = await (await fetch(`http://${etcd!.hostPort}/metrics`)).text();
  const m = /^etcd_mvcc_range_total (\d+)$/m.exec(text);
  if (m === null) throw new Error("etcd's metrics have no etcd_mvcc_range_total");
  return Number(m[1]);
}

describe.skipIf(etcdMissing)("servers on etcd", () => {
  it("read a chain's rollout record once, not once per event stream (a chain that never had a rollout too)", async () => {
    const store = `etcd://${etcd!.hostPort}/rollout-reads`;
    const server = await spawnServe(["--store", store, "--trusted-keys", trustedFile]);
    running.push(server);
    const chain = makeChain(key, 2, "staging");
    expect((await put(server.url, chain[0]!, '"0"')).status).toBe(201);
    /** Opens `n` streams; resolves once each has its first event (written after the stream's rollout lookup). */
    const open = async (n: number, abort: AbortController): Promise<ReturnType<typeof readEvents>[]> => {
      const started: Promise<void>[] = [];
      const streams = await Promise.all(
        Array.from({ length: n }, async () => {
          const res = await fetch(`${server.url}/v1/environments/staging/events`, { signal: abort.signal });
          let heardFirst!: () => void;
          started.push(new Promise<void>((resolve) => (heardFirst = resolve)));
          // In an object: an async function returning the promise itself would wait for it.
          return {
            events: readEvents(
              res,
              (e) => {
                if (e.some((x) => x.id === "1")) heardFirst();
                return e.some((x) => x.id === "2");
              },
              60_000,
              // A stream cut is a stream that did not hear v2: the assertion below names it.
            ).catch(() => []),
          };
        }),
      );
      await Promise.all(started);
      return streams.map((s) => s.events);
    };
    const abort = new AbortController();
    // The first streams load what the server holds of the chain; after them, a stream costs etcd no read.
    const first = await open(20, abort);
    const before = await etcdReads();
    const more = await open(80, abort);
    const reads = (await etcdReads()) - before;
    expect(reads).toBeLessThan(10);
    // Each stream, early or late, still hears the next publish.
    expect((await put(server.url, chain[1]!, '"1"')).status).toBe(201);
    expect((await Promise.all([...first, ...more])).filter((e) => !e.some((x) => x.id === "2"))).toEqual([]);
    abort.abort();
  });

  it("hold one etcd watch each, however many clients wait on them; each client gets the publish", async () => {
    const store = `etcd://${etcd!.hostPort}/one-watch`;
    const before = await etcdWatches();
    const servers = [
      await spawnServe(["--store", store, "--trusted-keys", trustedFile]),
      await spawnServe(["--store", store, "--trusted-keys", trustedFile]),
    ];
    running.push(...servers);
    const chains = { staging: makeChain(key, 2, "staging"), prod: makeChain(key, 2, "prod") };
    expect((await put(servers[0]!.url, chains.staging[0]!, '"0"')).status).toBe(201);
    expect((await put(servers[0]!.url, chains.prod[0]!, '"0"')).status).toBe(201);
    // Both servers serve what was published (each has loaded it through its watch or a read).
    for (const s of servers)
      for (const env of ["staging", "prod"])
        expect((await fetch(`${s.url}/v1/environments/${env}/snapshot`)).status).toBe(200);
    const idle = await etcdWatches();

    // 30 event streams and 10 long-polls per server, over two environments.
    const streams: { env: "staging" | "prod"; events: ReturnType<typeof readEvents> }[] = [];
    const aborts: AbortController[] = [];
    for (const s of servers) {
      for (let i = 0; i < 30; i++) {
        const env = i % 2 === 0 ? "staging" : "prod";
        const abort = new AbortController();
        aborts.push(abort);
        const res = await fetch(`${s.url}/v1/environments/${env}/events`, {
          headers: { "last-event-id": "1" },
          signal: abort.signal,
        });
        streams.push({ env, events: readEvents(res, (e) => e.length >= 1, 60_000) });
      }
      for (let i = 0; i < 10; i++)
        void fetch(`${s.url}/v1/environments/staging/snapshot?wait=60`, {
          headers: { "if-none-match": '"1"' },
          signal: aborts[0]!.signal,
        }).catch(() => undefined);
    }
    for (const s of servers) {
      await watchersReach(s.url, "sse", 30);
      await watchersReach(s.url, "longpoll", 10);
    }
    const busy = await etcdWatches();
    // One watch per server (its own, opened at start), and not one more for 80 waiting clients.
    expect({ idle: idle - before, busy: busy - before }).toEqual({ idle: servers.length, busy: servers.length });

    // Published through the first server: every stream on either server hears it.
    expect((await put(servers[0]!.url, chains.staging[1]!, '"1"')).status).toBe(201);
    expect((await put(servers[0]!.url, chains.prod[1]!, '"1"')).status).toBe(201);
    const heard = await Promise.all(streams.map(async (s) => ({ env: s.env, ids: (await s.events).map((e) => e.id) })));
    expect(heard.filter((h) => h.ids[0] !== "2")).toEqual([]);
    for (const a of aborts) a.abort();
  });
});
