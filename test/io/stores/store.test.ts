// @module-tag e2e
import { promises as fs, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { serializeSnapshot, type Snapshot } from "../../../src/core/snapshot/index.js";
import { openStore, parseStoreSpec, type SnapshotStore, type StoreEvent } from "../../../src/io/stores/index.js";
import { parseEtcdLocation } from "../../../src/io/stores/etcd.js";
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

const engines: [string, () => string][] = [
  ["file", () => `file:${tempdir("strata-store-")}`],
  ["etcd", () => `etcd://${etcd!.hostPort}/t${++prefixCount}`],
];

describe.each(engines)("%s store contract", (kind, location) => {
  const skip = kind === "etcd" && etcdMissing;

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
});

describe("store specs", () => {
  it("parses file: and etcd:// and refuses anything else", () => {
    expect(parseStoreSpec("file:/x")).toEqual({ kind: "file", location: "/x" });
    expect(parseEtcdLocation("a:1,b:2/p/q/")).toEqual({ hosts: ["http://a:1", "http://b:2"], prefix: "p/q" });
    expect(() => parseStoreSpec("s3://x")).toThrow(/unknown store/);
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
    const store = await openStore(`file:${dir}`);
    const holder = spawn("sleep", ["30"]);
    try {
      writeFileSync(join(dir, "lock"), JSON.stringify({ pid: holder.pid, host: (await import("node:os")).hostname() }));
      const [v1] = makeChain(key, 1);
      let done = false;
      const p = publish(store, v1!).then((r) => {
        done = true;
        return r;
      });
      await new Promise((r) => setTimeout(r, 300));
      expect(done).toBe(false);
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
      await new Promise((r) => setTimeout(r, 300));
      for (const s of chain.slice(0, 3)) await publish(a, s);
      const rev = (await admin.get("compaction/head/staging").exec()).header.revision;
      await admin.kv.compact({ revision: rev, physical: true });
      // What the watch manager does when etcd answers "required revision has been compacted".
      (b as unknown as { watcher: { emit(e: string, err: Error): void } }).watcher.emit(
        "error",
        new Error("Watcher canceled: etcdserver: mvcc: required revision has been compacted"),
      );
      await publish(a, chain[3]!);
      await vi.waitFor(() => expect(seen).toContain(4), { timeout: 60_000, interval: 20 });
      expect([...seen].sort((x, y) => x - y)).toEqual([...new Set(seen)].sort((x, y) => x - y));
    } finally {
      admin.close();
      await Promise.all([a.close(), b.close()]);
    }
  });

  it("a watcher keeps receiving after etcd is killed and restarted", async () => {
    const loc = `etcd://${etcd!.hostPort}/reconnect`;
    const [a, b] = [await openStore(loc), await openStore(loc)];
    try {
      const chain = makeChain(key, 2);
      const first = nextEvent(b, (e) => e.head.version === 1);
      await publish(a, chain[0]!);
      await first;
      await etcd!.kill();
      await etcd!.start();
      const second = nextEvent(b, (e) => e.head.version === 2, 60_000);
      // The client's own retry policy may need a moment after the restart.
      for (let i = 0; ; i++) {
        try {
          expect((await publish(a, chain[1]!)).ok).toBe(true);
          break;
        } catch (e) {
          if (i > 20) throw e;
          await new Promise((r) => setTimeout(r, 250));
        }
      }
      expect((await second).head.digest).toBe(chain[1]!.digest);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});
