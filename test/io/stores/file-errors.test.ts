// A file store that cannot be read says so: an unreadable envs/ is an error naming the directory (it read as
// "no environments"), and the watch's poll reports the failure once and the recovery once (it swallowed
// every failure, every poll, with no word).
import { renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import type { StrataError } from "../../../src/core/findings.js";
import { serializeSnapshot } from "../../../src/core/snapshot/index.js";
import { openFileStore } from "../../../src/io/stores/file.js";
import type { StoreProblem } from "../../../src/io/stores/index.js";
import { cleanupTempdirs, tempdir } from "../../support/gitdir.js";
import { makeChain, newKey } from "../../support/snapshots.js";

const { key } = newKey();
afterAll(() => cleanupTempdirs());

/** Makes envs/ unreadable as a directory for any user, root included: a file in its place (ENOTDIR). */
function breakEnvs(dir: string): void {
  renameSync(join(dir, "envs"), join(dir, "envs.aside"));
  writeFileSync(join(dir, "envs"), "not a directory");
}
function repairEnvs(dir: string): void {
  rmSync(join(dir, "envs"));
  renameSync(join(dir, "envs.aside"), join(dir, "envs"));
}

describe("an unreadable file store", () => {
  it("lists environments only when it can read them", async () => {
    const dir = tempdir("strata-store-");
    const store = await openFileStore(dir);
    try {
      const [v1] = makeChain(key, 1);
      await store.publish({ snapshot: v1!, text: serializeSnapshot(v1!), expected: 0, action: "publish", actor: null });
      expect(await store.environments()).toEqual(["staging"]);
      breakEnvs(dir);
      const error = await store.environments().then(
        () => null,
        (e: unknown) => e as StrataError,
      );
      expect(error).toMatchObject({ code: "unreadable-file" });
      expect(error!.message).toContain(`cannot read the store directory ${join(dir, "envs")}: ENOTDIR`);
    } finally {
      await store.close();
    }
  });

  it("the watch reports the failure once and the recovery once", async () => {
    const dir = tempdir("strata-store-");
    const store = await openFileStore(dir);
    const problems: StoreProblem["kind"][] = [];
    let failing: () => void = () => undefined;
    let recovered: () => void = () => undefined;
    const sawFailing = new Promise<void>((r) => (failing = r));
    const sawRecovered = new Promise<void>((r) => (recovered = r));
    let sawEvent: () => void = () => undefined;
    const event = new Promise<void>((r) => (sawEvent = r));
    const stop = store.watch(
      () => sawEvent(),
      (p) => {
        problems.push(p.kind);
        if (p.kind === "failing") {
          expect(p.error.message).toContain("ENOTDIR");
          failing();
        } else recovered();
      },
    );
    try {
      breakEnvs(dir);
      await sawFailing;
      repairEnvs(dir);
      await sawRecovered;
      // And it watches again: a publish after the recovery is delivered.
      const [v1] = makeChain(key, 1);
      await store.publish({ snapshot: v1!, text: serializeSnapshot(v1!), expected: 0, action: "publish", actor: null });
      await event;
      expect(problems).toEqual(["failing", "recovered"]);
    } finally {
      stop();
      await store.close();
    }
  });
});
