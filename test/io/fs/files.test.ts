// The named file helpers src/app uses instead of node:fs: Node's errors pass through (callers tell them
// apart by code), a new file is never written over, the edit directory is private.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import {
  appendTextFile,
  createPrivateTempDirectory,
  ensureDirectory,
  listDirectory,
  pathExists,
  readBinaryFile,
  readFileMode,
  readTextFile,
  removeFile,
  removePath,
  removePathSync,
  renamePath,
  writeNewFile,
  writeTextFile,
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
  it("writes, appends, reads text and bytes, renames and lists", async () => {
    const dir = scratch();
    await ensureDirectory(join(dir, "a/b"));
    await writeTextFile(join(dir, "a/b/x.txt"), "one\n", { mode: 0o600 });
    await appendTextFile(join(dir, "a/b/x.txt"), "two\n");
    expect(await readTextFile(join(dir, "a/b/x.txt"))).toBe("one\ntwo\n");
    expect((await readBinaryFile(join(dir, "a/b/x.txt"))).toString("utf8")).toBe("one\ntwo\n");
    expect(await readFileMode(join(dir, "a/b/x.txt"))).toBe(0o600);
    await renamePath(join(dir, "a/b/x.txt"), join(dir, "a/b/y.txt"));
    expect(await listDirectory(join(dir, "a/b"))).toEqual(["y.txt"]);
    expect(pathExists(join(dir, "a/b/x.txt"))).toBe(false);
  });

  it("writeNewFile refuses an existing file with EEXIST and leaves it as it was", async () => {
    const dir = scratch();
    await writeNewFile(join(dir, "k.pem"), "first", { mode: 0o600 });
    expect(statSync(join(dir, "k.pem")).mode & 0o777).toBe(0o600);
    await expect(writeNewFile(join(dir, "k.pem"), "second")).rejects.toMatchObject({ code: "EEXIST" });
    expect(await readTextFile(join(dir, "k.pem"))).toBe("first");
  });

  it("passes Node's ENOENT through for a missing file", async () => {
    const dir = scratch();
    await expect(readTextFile(join(dir, "none"))).rejects.toMatchObject({ code: "ENOENT" });
    await expect(readFileMode(join(dir, "none"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("removes files and trees, and nothing that is already gone", async () => {
    const dir = scratch();
    await ensureDirectory(join(dir, "t/u"));
    await writeTextFile(join(dir, "t/u/f"), "x");
    await writeTextFile(join(dir, "g"), "x");
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
