// The one atomic writer (io/fs/write-atomic.ts): a temporary file in the same directory, fsync, rename (or
// link, when nothing may be replaced); never through a link out of the directory it must stay in, and a
// link inside it replaced rather than followed.
import { execFileSync } from "node:child_process";
import { lstatSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { resolveFileToMerge, writeFileAtomic, WriteRefusedError } from "../../../src/io/fs/write-atomic.js";
import { cleanupTempdirs, tempdir } from "../../support/gitdir.js";

afterAll(cleanupTempdirs);

/** A repository directory and, beside it, a directory it must never write into. */
function setup(): { repo: string; outside: string; victim: string } {
  const base = tempdir("strata-write-");
  const repo = join(base, "repo");
  const outside = join(base, "outside");
  mkdirSync(repo);
  mkdirSync(outside);
  const victim = join(outside, "victim.txt");
  writeFileSync(victim, "victim\n");
  return { repo, outside, victim };
}

describe("writeFileAtomic", () => {
  it("creates a file (0644), replaces one keeping its mode, leaves no temporary file", async () => {
    const { repo } = setup();
    const f = join(repo, "a.txt");
    await writeFileAtomic(f, "one", { within: repo });
    expect(statSync(f).mode & 0o777).toBe(0o644);
    execFileSync("chmod", ["600", f]);
    await writeFileAtomic(f, "two", { within: repo });
    expect(readFileSync(f, "utf8")).toBe("two");
    expect(statSync(f).mode & 0o777).toBe(0o600);
    await writeFileAtomic(f, "three", { within: repo, mode: 0o640 });
    expect(statSync(f).mode & 0o777).toBe(0o640);
    expect(readdirSync(repo)).toEqual(["a.txt"]);
  });

  it("refuses a file that is a link out of the directory, and leaves its target alone", async () => {
    const { repo, victim } = setup();
    symlinkSync(victim, join(repo, "settings.json"));
    const error = await writeFileAtomic(join(repo, "settings.json"), "payload", { within: repo }).catch((e) => e);
    expect(error).toBeInstanceOf(WriteRefusedError);
    expect(error).toMatchObject({ reason: "link-outside" });
    expect(readFileSync(victim, "utf8")).toBe("victim\n");
    expect(lstatSync(join(repo, "settings.json")).isSymbolicLink()).toBe(true);
    await expect(resolveFileToMerge(join(repo, "settings.json"), repo)).rejects.toBeInstanceOf(WriteRefusedError);
  });

  it("refuses a dangling link out of the directory: nothing is created where it points", async () => {
    const { repo, outside } = setup();
    symlinkSync(join(outside, "new.txt"), join(repo, "out.txt"));
    await expect(writeFileAtomic(join(repo, "out.txt"), "x", { within: repo })).rejects.toBeInstanceOf(
      WriteRefusedError,
    );
    expect(readdirSync(outside)).toEqual(["victim.txt"]);
  });

  it("replaces a link inside the directory with the file itself, never writing its target", async () => {
    const { repo } = setup();
    writeFileSync(join(repo, "notes.json"), "mine\n");
    symlinkSync("notes.json", join(repo, "schema.json"));
    expect(await resolveFileToMerge(join(repo, "schema.json"), repo)).toBe(join(repo, "notes.json"));
    await writeFileAtomic(join(repo, "schema.json"), "generated\n", { within: repo });
    expect(lstatSync(join(repo, "schema.json")).isFile()).toBe(true);
    expect(readFileSync(join(repo, "schema.json"), "utf8")).toBe("generated\n");
    expect(readFileSync(join(repo, "notes.json"), "utf8")).toBe("mine\n");
  });

  it("refuses a directory on the way that is a link out: nothing is created outside", async () => {
    const { repo, outside } = setup();
    symlinkSync(outside, join(repo, ".github"));
    const error = await writeFileAtomic(join(repo, ".github/workflows/x.yml"), "x", {
      within: repo,
      createDirectories: true,
    }).catch((e) => e);
    expect(error).toMatchObject({ reason: "link-outside" });
    expect(readdirSync(outside)).toEqual(["victim.txt"]);
  });

  it("follows a directory link that stays inside, and creates missing directories", async () => {
    const { repo } = setup();
    mkdirSync(join(repo, "real"));
    symlinkSync("real", join(repo, "alias"));
    await writeFileAtomic(join(repo, "alias/deep/f.txt"), "x", { within: repo, createDirectories: true });
    expect(readFileSync(join(repo, "real/deep/f.txt"), "utf8")).toBe("x");
    await expect(writeFileAtomic(join(repo, "missing/f.txt"), "x", { within: repo })).rejects.toMatchObject({
      code: "ENOENT",
    });
  });

  it("exclusive: never over anything, a dangling link included", async () => {
    const { repo, outside } = setup();
    await writeFileAtomic(join(repo, "k.pem"), "key", { within: repo, exclusive: true, mode: 0o600 });
    expect(statSync(join(repo, "k.pem")).mode & 0o777).toBe(0o600);
    await expect(
      writeFileAtomic(join(repo, "k.pem"), "other", { within: repo, exclusive: true }),
    ).rejects.toMatchObject({ code: "EEXIST" });
    symlinkSync(join(outside, "k2.pem"), join(repo, "k2.pem"));
    await expect(writeFileAtomic(join(repo, "k2.pem"), "key", { within: repo, exclusive: true })).rejects.toMatchObject(
      { code: "EEXIST" },
    );
    expect(readdirSync(outside)).toEqual(["victim.txt"]);
  });

  it("refuses a path outside the directory, and what is not a regular file", async () => {
    const { repo, outside } = setup();
    await expect(writeFileAtomic(join(repo, "../outside/x"), "x", { within: repo })).rejects.toMatchObject({
      reason: "outside",
    });
    execFileSync("mkfifo", [join(repo, "fifo")]);
    await expect(writeFileAtomic(join(repo, "fifo"), "x", { within: repo })).rejects.toMatchObject({
      reason: "not-a-file",
    });
    await expect(writeFileAtomic(repo, "x", { within: repo })).rejects.toMatchObject({ reason: "outside" });
    expect(readdirSync(outside)).toEqual(["victim.txt"]);
  });

  it("beforeReplace can decline at the last moment: the target stays as it was", async () => {
    const { repo } = setup();
    const f = join(repo, "head.json");
    writeFileSync(f, "old");
    expect(await writeFileAtomic(f, "new", { within: repo, durable: false, beforeReplace: async () => false })).toBe(
      false,
    );
    expect(readFileSync(f, "utf8")).toBe("old");
    expect(readdirSync(repo)).toEqual(["head.json"]);
  });
});
