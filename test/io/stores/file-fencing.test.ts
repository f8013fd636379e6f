// The file store when a lock holder stalls long enough for its lock to be broken, and after crashed writes.
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { serializeSnapshot, type Snapshot } from "../../../src/core/snapshot/index.js";
import { openFileStore } from "../../../src/io/stores/file.js";
import type { SnapshotStore } from "../../../src/io/stores/index.js";
import { cleanupTempdirs, tempdir } from "../../support/gitdir.js";
import { makeChain, newKey } from "../../support/snapshots.js";

const { key } = newKey();
afterAll(() => cleanupTempdirs());

function publish(store: SnapshotStore, s: Snapshot, expected = s.version - 1) {
  return store.publish({ snapshot: s, text: serializeSnapshot(s), expected, action: "publish", actor: "t" });
}

function headOnDisk(dir: string): number {
  return (JSON.parse(readFileSync(join(dir, "envs", "staging", "head.json"), "utf8")) as { version: number }).version;
}

describe("file store fencing", () => {
  it("a writer whose stale lock was broken cannot move head.json backwards", async () => {
    const dir = tempdir("strata-store-");
    const chain = makeChain(key, 3);
    let release: () => void = () => undefined;
    let stalled: () => void = () => undefined;
    const isStalled = new Promise<void>((r) => (stalled = r));
    // A: stalls before replacing head.json for version 2, holding the lock.
    const a = await openFileStore(dir, {
      beforeHeadRename: async (_env, version) => {
        if (version !== 2) return;
        stalled();
        await new Promise<void>((r) => (release = r));
      },
    });
    // B: judges a lock older than 200 ms stale.
    const b = await openFileStore(dir, { staleLockMs: 200 });
    try {
      expect(await publish(a, chain[0]!)).toMatchObject({ ok: true });
      const slow = publish(a, chain[1]!);
      await isStalled;
      // B breaks A's lock, rolls the head forward to A's durable version 2, and publishes version 3.
      expect(await publish(b, chain[2]!, 2)).toMatchObject({ ok: true, head: { version: 3 } });
      expect(headOnDisk(dir)).toBe(3);
      // A wakes up: its rename would put version 2 back. The fence keeps head.json at 3.
      release();
      expect(await slow).toMatchObject({ ok: true, head: { version: 2 } });
      expect(headOnDisk(dir)).toBe(3);
      expect((await b.head("staging"))?.version).toBe(3);
      expect((await b.history("staging")).map((h) => h.version)).toEqual([1, 2, 3]);
      expect(readdirSync(join(dir, "envs", "staging")).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
    } finally {
      release();
      await a.close();
      await b.close();
    }
  });
});

describe("leftover temp files", () => {
  it("are removed when the store opens", async () => {
    const dir = tempdir("strata-store-");
    const store = await openFileStore(dir);
    for (const s of makeChain(key, 1)) await publish(store, s);
    await store.close();
    // What a crashed writer leaves: a lock candidate in the root, a head temp, a version temp (pid 999999999: dead).
    const leftovers = [
      join(dir, ".tmp-999999999-aaaaaa"),
      join(dir, "envs", "staging", ".tmp-999999999-bbbbbb"),
      join(dir, "envs", "staging", "v", ".tmp-999999999-cccccc"),
    ];
    mkdirSync(join(dir, "envs", "staging", "v"), { recursive: true });
    for (const f of leftovers) writeFileSync(f, "partial");
    const reopened = await openFileStore(dir);
    try {
      for (const f of leftovers) expect(existsSync(f), f).toBe(false);
      expect((await reopened.head("staging"))?.version).toBe(1);
    } finally {
      await reopened.close();
    }
  });
});
