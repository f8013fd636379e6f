// The working tree as a source: every file is read as it is on disk now, and nothing outside the
// repository is ever read, whether a link is there when the tree is listed or appears after.
import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { createWorktreeFiles } from "../../../src/io/repo/worktree.js";
import { cleanupTempdirs, tempdir } from "../../support/gitdir.js";

afterAll(cleanupTempdirs);

const text = (bytes: Uint8Array | null): string | null => (bytes === null ? null : Buffer.from(bytes).toString("utf8"));

function tree(): { root: string; outside: string } {
  const base = tempdir();
  const root = join(base, "repo");
  mkdirSync(join(root, "environments", "production"), { recursive: true });
  mkdirSync(join(root, "schemas"), { recursive: true });
  writeFileSync(join(root, "strata.yaml"), "version: 1\n");
  writeFileSync(join(root, "environments", "production", "app.yaml"), "replicas: 3\n");
  writeFileSync(join(root, "schemas", "app.schema.yaml"), "type: object\n");
  const outside = join(base, "outside.yaml");
  writeFileSync(outside, "secret: outside\n");
  return { root, outside };
}

describe("createWorktreeFiles", () => {
  it("reads listed files as they are on disk at the time of the read", async () => {
    const { root } = tree();
    const files = createWorktreeFiles(root);
    expect(await files.list(["schemas", "environments"])).toEqual([
      "environments/production/app.yaml",
      "schemas/app.schema.yaml",
    ]);
    expect(text(await files.read("environments/production/app.yaml"))).toBe("replicas: 3\n");
    writeFileSync(join(root, "environments", "production", "app.yaml"), "replicas: 4\n");
    expect(text(await files.read("environments/production/app.yaml"))).toBe("replicas: 4\n");
    // Not listed, still read; a missing file is null, not an error.
    expect(text(await files.read("strata.yaml"))).toBe("version: 1\n");
    expect(await files.read("environments/production/db.yaml")).toBeNull();
    rmSync(join(root, "environments", "production", "app.yaml"));
    expect(await files.read("environments/production/app.yaml")).toBeNull();
  });

  it("lists and reads a link to a file inside the repository, never one leaving it", async () => {
    const { root, outside } = tree();
    symlinkSync("app.yaml", join(root, "environments", "production", "db.yaml"));
    symlinkSync(outside, join(root, "environments", "production", "leak.yaml"));
    symlinkSync(join(outside, ".."), join(root, "environments", "staging"));
    const files = createWorktreeFiles(root);
    expect(await files.list(["environments"])).toEqual([
      "environments/production/app.yaml",
      "environments/production/db.yaml",
    ]);
    expect(text(await files.read("environments/production/db.yaml"))).toBe("replicas: 3\n");
    expect(await files.read("environments/production/leak.yaml")).toBeNull();
    expect(await files.read("environments/staging/outside.yaml")).toBeNull();
  });

  it("does not read outside the repository through a listed file replaced by a link after listing", async () => {
    const { root, outside } = tree();
    const files = createWorktreeFiles(root);
    await files.list(["environments"]);
    const file = join(root, "environments", "production", "app.yaml");
    rmSync(file);
    symlinkSync(outside, file);
    expect(await files.read("environments/production/app.yaml")).toBeNull();
    // A link to a file inside the repository is still followed.
    rmSync(file);
    symlinkSync(join(root, "strata.yaml"), file);
    expect(text(await files.read("environments/production/app.yaml"))).toBe("version: 1\n");
    // A listed directory replaced by a link leaving the repository.
    const dir = join(root, "environments", "production");
    renameSync(dir, join(root, "old"));
    symlinkSync(join(outside, ".."), dir);
    expect(await files.read("environments/production/outside.yaml")).toBeNull();
  });

  it("says which file it cannot read", async () => {
    const { root } = tree();
    const files = createWorktreeFiles(root);
    mkdirSync(join(root, "environments", "production", "dir.yaml"));
    await expect(files.read("environments/production/dir.yaml")).rejects.toMatchObject({
      code: "unreadable-file",
      message: expect.stringContaining("cannot read environments/production/dir.yaml"),
    });
  });
});
