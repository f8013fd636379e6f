// The file store writes through the one atomic writer (io/fs/write-atomic.ts): a version file is linked to
// its final name (never over an existing one), and head.json replaced, never written through a link.
import { lstatSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
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

describe("the file store's writer", () => {
  it("refuses to write head.json through a link out of the store; the pointer rolls forward once it is gone", async () => {
    const dir = tempdir("strata-store-");
    const victim = join(tempdir("strata-outside-"), "victim.json");
    writeFileSync(victim, "victim\n");
    const store = await openFileStore(dir);
    try {
      const [v1, v2] = makeChain(key, 2);
      expect(await publish(store, v1!)).toMatchObject({ ok: true });
      const head = join(dir, "envs", "staging", "head.json");
      const pointer = readFileSync(head, "utf8");
      rmSync(head);
      writeFileSync(victim, pointer);
      symlinkSync(victim, head);
      await expect(publish(store, v2!)).rejects.toMatchObject({ reason: "link-outside" });
      expect(readFileSync(victim, "utf8")).toBe(pointer);
      expect(readdirSync(join(dir, "envs", "staging")).filter((n) => n.startsWith(".tmp-"))).toEqual([]);
      // The version file is durable; with the link gone, recovery moves the pointer to it.
      expect(readdirSync(join(dir, "envs", "staging", "v")).sort()).toEqual(["000000000001.json", "000000000002.json"]);
      rmSync(head);
      expect(await store.head("staging")).toBeNull();
      const reopened = await openFileStore(dir);
      expect((await reopened.head("staging"))?.version).toBe(2);
      await reopened.close();
      expect(lstatSync(head).isFile()).toBe(true);
    } finally {
      await store.close();
    }
  });
});
