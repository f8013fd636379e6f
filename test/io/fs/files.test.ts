// The named file helpers src/app uses instead of node:fs: reads pass Node's errors through (callers tell
// them apart by code); writes go through the one atomic writer and fail as located StrataErrors; the edit
// directory is private.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  createPrivateTempDirectory,
  ensureDirectory,
  listDirectory,
  outputDirectory,
  pathExists,
  readBinaryFile,
  readFileMode,
  readFileToMerge,
  readTextFile,
  removeFile,
  removePath,
  removePathSync,
  writeFileInside,
  writePrivateFile,
} from "../../../src/io/fs/files.js";

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function scratch(): string {
  const d = mkdtempSync(join(tmpdir(), "strata-files-"));
  dirs.push(d);
  return d;
}

describe("io/fs/files", () => {
  it("writes, merges, reads text and bytes, and lists", async () => {
    const dir = scratch();
    await writeFileInside(join(dir, "a/b/x.txt"), "one\n", { within: dir, mode: 0o600, createDirectories: true });
    const merged = `${await readFileToMerge(join(dir, "a/b/x.txt"), dir)}two\n`;
    await writeFileInside(join(dir, "a/b/x.txt"), merged, { within: dir });
    expect(await readTextFile(join(dir, "a/b/x.txt"))).toBe("one\ntwo\n");
    expect((await readBinaryFile(join(dir, "a/b/x.txt"))).toString("utf8")).toBe("one\ntwo\n");
    expect(await readFileMode(join(dir, "a/b/x.txt"))).toBe(0o600);
    expect(await readFileToMerge(join(dir, "a/b/none"), dir)).toBeNull();
    expect(await listDirectory(join(dir, "a/b"))).toEqual(["x.txt"]);
    expect(pathExists(join(dir, "a/b/y.txt"))).toBe(false);
  });

  it("an exclusive write refuses an existing file, leaves it as it was, and says so as a StrataError", async () => {
    const dir = scratch();
    await writeFileInside(join(dir, "k.pem"), "first", { within: dir, exclusive: true, mode: 0o600 });
    expect(statSync(join(dir, "k.pem")).mode & 0o777).toBe(0o600);
    await expect(
      writeFileInside(join(dir, "k.pem"), "second", { within: dir, exclusive: true, label: "k.pem" }),
    ).rejects.toMatchObject({ code: "invalid-argument", message: "cannot write k.pem: it exists" });
    expect(await readTextFile(join(dir, "k.pem"))).toBe("first");
    await expect(writeFileInside(join(dir, "no/such/dir/f"), "x", { within: dir })).rejects.toMatchObject({
      code: "invalid-argument",
      hint: "its directory does not exist: create it first",
    });
  });

  it("an output goes inside the repository when it is there, else in the directory named", () => {
    expect(outputDirectory("/repo/types/config.d.ts", "/repo")).toBe("/repo");
    expect(outputDirectory("/elsewhere/config.d.ts", "/repo")).toBe("/elsewhere");
    expect(outputDirectory("/repo/../x.d.ts", "/repo")).toBe("/");
  });

  it("a private scratch file is 0600 and never replaces anything", async () => {
    const dir = await createPrivateTempDirectory("strata-files-private-");
    dirs.push(dir);
    await writePrivateFile(join(dir, "plain"), "x");
    expect(statSync(join(dir, "plain")).mode & 0o777).toBe(0o600);
    await expect(writePrivateFile(join(dir, "plain"), "y")).rejects.toMatchObject({ code: "EEXIST" });
  });

  it("passes Node's ENOENT through for a missing file", async () => {
    const dir = scratch();
    await expect(readTextFile(join(dir, "none"))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(readFileMode(join(dir, "none"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("removes files and trees, and nothing that is already gone", async () => {
    const dir = scratch();
    await ensureDirectory(join(dir, "t/u"));
    await writeFileInside(join(dir, "t/u/f"), "x", { within: dir });
    await writeFileInside(join(dir, "g"), "x", { within: dir });
    await removeFile(join(dir, "g"));
    await removeFile(join(dir, "g"));
    await removePath(join(dir, "t"));
    removePathSync(join(dir, "t"));
    expect(await listDirectory(dir)).toEqual([]);
  });

  it("creates a temporary directory only its owner can enter", async () => {
    const dir = await createPrivateTempDirectory("strata-files-private-");
    dirs.push(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
  });
});
