// @module-tag e2e
import { existsSync, promises as fs, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { serializeSnapshot, type Snapshot } from "../../../src/core/snapshot/index.js";
import type { StrataError } from "../../../src/core/findings.js";
import {
  openStore,
  parseStoreSpec,
  stores,
  type SnapshotStore,
  type StoreEvent,
  type StoreKind,
} from "../../../src/io/stores/index.js";
import { parseEtcdLocation } from "../../../src/io/stores/etcd.js";
import { openFileStore } from "../../../src/io/stores/file.js";
import { etcdMissing, startEtcd, type EtcdHandle } from "../../support/etcd.js";
import { cleanupTempdirs, tempdir } from "../../support/gitdir.js";
import { makeChain, makeSnapshot, newKey } from "../../support/snapshots.js";

const { key } = newKey();

function publish(store: SnapshotStore, s: Snapshot, expected = s.version - 1) {
  return store.publish({ snapshot: s, text: serializeSnapshot(s), expected, action: "publish", actor: "t" });
}

function nextEvent(store: SnapshotStore, pred: (e: StoreEvent) => boolean, timeoutMs = 60_000): Promise<StoreEvent> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      stop();
      reject(new Error("no event"));
    }, timeoutMs);
    const stop = store.watch((e) => {
      if (!pred(e)) return;
      clearTimeout(timer);
      stop();
      resolve(e);
    });
  });
}

let etcd: EtcdHandle | null = null;
let prefixCount = 0;
beforeAll(async () => {
  if (!etcdMissing) etcd = await startEtcd();
});
afterAll(async () => {
  await etcd?.stop();
  cleanupTempdirs();
});

/** Where each engine of the `stores` table gets a fresh store: an engine missing here is a compile error. */
const engines = {
  file: { available: true, spec: () => `file:${tempdir("strata-store-")}` },
  etcd: { available: etcdMissing === null, spec: () => `etcd://${etcd!.hostPort}/t${++prefixCount}` },
} satisfies Record<StoreKind, { available: boolean; spec: () => string }>;

describe.each(Object.keys(stores) as StoreKind[])("%s store contract", (kind) => {
  const skip = !engines[kind].available;
  const location = engines[kind].spec;

  it.skipIf(skip)("keeps a chain per service beside the environment's: own versions, history, events", async () => {
    const store = await openStore(location());
    try {
      const env = makeChain(key, 2, "production");
      const checkout = [makeSnapshot(key, { environment: "production", service: "checkout", version: 1 })];
      checkout[1] = makeSnapshot(key, {
        environment: "production",
        service: "checkout",
        version: 2,
        previous: checkout[0]!.digest,
      });
      const marketing = makeSnapshot(key, { environment: "production", service: "marketing", version: 1 });
      const events: string[] = [];
      const stop = store.watch((e) => events.push(`${e.key}@${e.head.version}`));
      try {
        expect((await publish(store, env[0]!)).ok).toBe(true);
        expect((await publish(store, checkout[0]!)).ok).toBe(true);
        expect((await publish(store, marketing)).ok).toBe(true);
        expect((await publish(store, checkout[1]!)).ok).toBe(true);
        // Each chain's compare-and-swap is its own: the environment is still at 1.
        expect((await publish(store, env[1]!)).ok).toBe(true);
      } finally {
        stop();
      }
      expect(events).toEqual(
        expect.arrayContaining([
          "production@1",
          "production/services/checkout@1",
          "production/services/marketing@1",
          "production/services/checkout@2",
          "production@2",
        ]),
      );
      expect(await store.environments()).toEqual(["production"]);
      expect(await store.services("production")).toEqual(["checkout", "marketing"]);
      expect(await store.services("staging")).toEqual([]);
      expect((await store.history("production")).map((h) => [h.service, h.version])).toEqual([
        [undefined, 1],
        [undefined, 2],
      ]);
      expect((await store.history("production/services/checkout")).map((h) => [h.service, h.version])).toEqual([
        ["checkout", 1],
        ["checkout", 2],
      ]);
      expect(await store.head("production/services/marketing")).toMatchObject({ version: 1, digest: marketing.digest });
      expect(await store.read("production/services/checkout", 2)).toBe(serializeSnapshot(checkout[1]!));
      expect((await store.audit()).filter((h) => h.service !== undefined)).toHaveLength(3);
      // A key that names no chain never reaches the store's files or keys.
      for (const bad of ["production/checkout", "production/services/../x", "../production", "production/services/"])
        await expect(store.head(bad)).rejects.toMatchObject({ code: "invalid-argument" });
    } finally {
      await store.close();
    }
  });

  it.skipIf(skip)("publishes with compare-and-swap and reads back versions, history and audit", async () => {
    const store = await openStore(location());
    try {
      const [v1, v2, v3] = makeChain(key, 3);
      expect(await store.head("staging")).toBeNull();
      expect(await store.environments()).toEqual([]);
      expect((await publish(store, v1!)).ok).toBe(true);
      const stale = await publish(store, v2!, 0);
      expect(stale).toMatchObject({ ok: false, current: { version: 1, digest: v1!.digest } });
      expect((await publish(store, v2!)).ok).toBe(true);
      expect((await publish(store, v2!)).ok).toBe(false);
      expect((await publish(store, v3!)).ok).toBe(true);
      expect(await store.head("staging")).toMatchObject({
        version: 3,
        digest: v3!.digest,
        contentDigest: v3!.contentDigest,
      });
      expect(await store.read("staging", 2)).toBe(serializeSnapshot(v2!));
      expect(await store.read("staging", 9)).toBeNull();
      const history = await store.history("staging");
      expect(history.map((h) => [h.version, h.previous])).toEqual([
        [1, null],
        [2, v1!.digest],
        [3, v2!.digest],
      ]);
      expect(history[0]).toMatchObject({ action: "publish", actor: "t", source: { commit: v1!.source.commit } });
      expect(await store.environments()).toEqual(["staging"]);
      const [p1] = makeChain(key, 1, "production");
      expect((await publish(store, p1!)).ok).toBe(true);
      expect((await store.audit()).map((a) => `${a.environment}@${a.version}`)).toEqual([
        "staging@1",
        "staging@2",
        "staging@3",
        "production@1",
      ]);
    } finally {
      await store.close();
    }
  });

  it.skipIf(skip)(
    "two instances on one location: one winner per version, and each sees the other's publishes",
    async () => {
      const loc = location();
      const [a, b] = [await openStore(loc), await openStore(loc)];
      try {
        const seenByB = nextEvent(b, (e) => e.head.version === 8);
        let previous: string | null = null;
        for (let version = 1; version <= 8; version++) {
          // Both race for the same version with different content; exactly one wins.
          const [x, y] = ["a", "b"].map((who) => makeSnapshot(key, { version, previous, config: { app: { who } } }));
          const results = await Promise.all([publish(a, x!), publish(b, y!)]);
          expect(results.filter((r) => r.ok)).toHaveLength(1);
          previous = (await a.head("staging"))!.digest;
        }
        expect((await seenByB).head.digest).toBe(previous);
        expect((await a.history("staging")).map((h) => h.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    },
  );

  it.skipIf(skip)(
    "keeps a rollout record per chain by compare-and-swap, shares report totals, and tells the other instance",
    async () => {
      const loc = location();
      const [a, b] = [await openStore(loc), await openStore(loc)];
      try {
        expect((await publish(a, makeSnapshot(key, { version: 1 }))).ok).toBe(true);
        expect(await a.readRollout("staging")).toBeNull();
        expect(await a.rollouts()).toEqual([]);
        const told = new Promise<string>((resolve) => {
          const stop = b.watchRollouts((k) => {
            stop();
            resolve(k);
          });
        });
        // The first write names no revision; a second writer with the same expectation loses.
        const first = await a.writeRollout("staging", '{"n":1}', null);
        expect(first).toMatchObject({ text: '{"n":1}' });
        expect(await b.writeRollout("staging", '{"n":"b"}', null)).toBeNull();
        expect(await told).toBe("staging");
        const read = await b.readRollout("staging");
        expect(read).toEqual(first);
        const second = await b.writeRollout("staging", '{"n":2}', read!.revision);
        expect(second).not.toBeNull();
        expect(await a.writeRollout("staging", '{"n":"a"}', first!.revision)).toBeNull();
        expect((await a.readRollout("staging"))?.text).toBe('{"n":2}');
        expect(await a.rollouts()).toEqual(["staging"]);
        // A service's chain has its own record; a key that names no chain is refused.
        expect(await a.writeRollout("staging/services/checkout", "{}", null)).not.toBeNull();
        expect((await a.rollouts()).sort()).toEqual(["staging", "staging/services/checkout"]);
        await expect(a.readRollout("../x")).rejects.toThrow(/invalid/);
        // Each server's report totals: replaced by a put, all listed, per chain.
        await a.putRolloutReports("staging", "server-a", "A1");
        await a.putRolloutReports("staging", "server-a", "A2");
        await b.putRolloutReports("staging", "server-b", "B1");
        await b.putRolloutReports("staging/services/checkout", "server-b", "S1");
        expect((await a.listRolloutReports("staging")).sort()).toEqual(["A2", "B1"]);
        expect(await a.listRolloutReports("staging/services/checkout")).toEqual(["S1"]);
        await expect(a.putRolloutReports("staging", "../evil", "x")).rejects.toThrow(/invalid server id/);
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    },
  );
});

describe("store specs", () => {
  it.each([
    ["file:/x", { kind: "file", location: "/x" }],
    ["file:relative/dir", { kind: "file", location: "relative/dir" }],
    ["etcd://a:1,b:2/p/q/", { kind: "etcd", location: "a:1,b:2/p/q/" }],
  ])("%s", (spec, parsed) => {
    expect(parseStoreSpec(spec)).toEqual(parsed);
  });

  it.each(["s3://x", "file:", "etcd://", "/x", ""])("%j is refused, naming every engine's form", (spec) => {
    expect(() => parseStoreSpec(spec)).toThrow(/unknown store/);
    try {
      parseStoreSpec(spec);
    } catch (e) {
      for (const engine of Object.values(stores)) expect((e as StrataError).hint).toContain(engine.usage);
    }
  });

  it("reads an etcd location", () => {
    expect(parseEtcdLocation("a:1,b:2/p/q/")).toEqual({ hosts: ["http://a:1", "http://b:2"], prefix: "p/q" });
    expect(() => parseEtcdLocation("/x")).toThrow(/invalid etcd store/);
  });
});

describe("file store crash consistency", () => {
  it("rolls head and history forward from a version written just before a crash", async () => {
    const dir = tempdir("strata-store-");
    const [v1, v2] = makeChain(key, 2);
    const store = await openStore(`file:${dir}`);
    await publish(store, v1!);
    await store.close();
    // The crash: version 2 linked, nothing after; plus a leftover temp file and a stale lock by a dead pid.
    writeFileSync(join(dir, "envs/staging/v/000000000002.json"), serializeSnapshot(v2!));
    writeFileSync(join(dir, "envs/staging/v/.tmp-1-abc"), "partial");
    writeFileSync(join(dir, "lock"), JSON.stringify({ pid: 999_999_999, host: (await import("node:os")).hostname() }));
    const reopened = await openStore(`file:${dir}`);
    try {
      expect(await reopened.head("staging")).toMatchObject({ version: 2, digest: v2!.digest });
      const h = await reopened.history("staging");
      expect(h.map((e) => [e.version, e.recovered ?? false])).toEqual([
        [1, false],
        [2, true],
      ]);
      expect(readdirSync(join(dir, "envs/staging/v"))).toEqual(["000000000001.json", "000000000002.json"]);
      await expect(fs.stat(join(dir, "lock"))).rejects.toThrow();
    } finally {
      await reopened.close();
    }
  });

  it("rebuilds a head.json torn by a power loss (it is not fsynced) from the version files", async () => {
    const dir = tempdir("strata-store-");
    const chain = makeChain(key, 3);
    const store = await openStore(`file:${dir}`);
    for (const s of chain) await publish(store, s);
    await store.close();
    writeFileSync(join(dir, "envs/staging/head.json"), "");
    const reopened = await openStore(`file:${dir}`);
    try {
      expect(await reopened.head("staging")).toMatchObject({ version: 3, digest: chain[2]!.digest });
      expect((await reopened.history("staging")).map((h) => h.version)).toEqual([1, 2, 3]);
    } finally {
      await reopened.close();
    }
  });

  it("waits for a lock held by a live process instead of writing beside it", async () => {
    const dir = tempdir("strata-store-");
    let busy: () => void = () => undefined;
    const sawBusyLock = new Promise<void>((r) => (busy = r));
    const store = await openFileStore(dir, { onLockBusy: () => busy() });
    const holder = spawn("sleep", ["300"]);
    try {
      writeFileSync(join(dir, "lock"), JSON.stringify({ pid: holder.pid, host: (await import("node:os")).hostname() }));
      const [v1] = makeChain(key, 1);
      let done = false;
      const p = publish(store, v1!).then((r) => {
        done = true;
        return r;
      });
      // The publish reached the lock, judged its holder alive and is waiting: nothing written yet.
      await sawBusyLock;
      expect(done).toBe(false);
      expect(existsSync(join(dir, "envs/staging/head.json"))).toBe(false);
      holder.kill("SIGKILL");
      expect((await p).ok).toBe(true);
      expect(readFileSync(join(dir, "envs/staging/head.json"), "utf8")).toContain(v1!.digest);
    } finally {
      holder.kill("SIGKILL");
      await store.close();
    }
  });
});

describe.skipIf(etcdMissing)("etcd store reconnects", () => {
  it("a watch canceled by etcd (compacted revision) is recreated and catches up", async () => {
    const loc = `etcd://${etcd!.hostPort}/compaction`;
    const [a, b] = [await openStore(loc), await openStore(loc)];
    const { Etcd3 } = await import("etcd3");
    const admin = new Etcd3({ hosts: `http://${etcd!.hostPort}` });
    try {
      const chain = makeChain(key, 4);
      const seen: number[] = [];
      b.watch((e) => seen.push(e.head.version));
      // b's watch is live once it reports a publish of a's.
      const first = nextEvent(b, (e) => e.head.version === 1);
      await publish(a, chain[0]!);
      await first;
      for (const s of chain.slice(1, 3)) await publish(a, s);
      const rev = (await admin.get("compaction/head/staging").exec()).header.revision;
      await admin.kv.compact({ revision: rev, physical: true });
      // What the watch manager does when etcd answers "required revision has been compacted".
      (b as unknown as { watcher: { emit(e: string, err: Error): void } }).watcher.emit(
        "error",
        new Error("Watcher canceled: etcdserver: mvcc: required revision has been compacted"),
      );
      const fourth = nextEvent(b, (e) => e.head.version === 4);
      await publish(a, chain[3]!);
      await fourth;
      expect([...seen].sort((x, y) => x - y)).toEqual([...new Set(seen)].sort((x, y) => x - y));
    } finally {
      admin.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("a watcher keeps receiving after etcd is killed and restarted", async () => {
    const loc = `etcd://${etcd!.hostPort}/reconnect`;
    const [a, b] = [await openStore(loc), await openStore(loc)];
    let c: SnapshotStore | null = null;
    try {
      const chain = makeChain(key, 2);
      const first = nextEvent(b, (e) => e.head.version === 1);
      await publish(a, chain[0]!);
      await first;
      await etcd!.kill();
      // start() returns once etcd answers /health.
      await etcd!.start();
      const second = nextEvent(b, (e) => e.head.version === 2, 60_000);
      // The publisher is incidental: a client opened after the restart publishes once, without retries, so
      // the only thing that can fail here is b's watch.
      c = await openStore(loc);
      expect((await publish(c, chain[1]!)).ok).toBe(true);
      expect((await second).head.digest).toBe(chain[1]!.digest);
    } finally {
      await Promise.all([a.close(), b.close(), c?.close()]);
    }
  });
});
