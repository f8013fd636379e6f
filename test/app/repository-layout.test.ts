// The loader and the diff read the same files: a misnamed schema file is a finding for both, never a
// namespace one of them sees and the other does not.
import { afterAll, describe, expect, it } from "vitest";
import { diffConfig } from "../../src/app/diff.js";
import { validateRepository } from "../../src/app/validate.js";
import { createWorktreeFiles } from "../../src/io/repo/worktree.js";
import { cleanupTempdirs, commitAll, gitdir, writeTree } from "../support/gitdir.js";

afterAll(cleanupTempdirs);

const TREE = {
  "strata.yaml": "version: 1\nenvironments:\n  dev: {}\n",
  "schemas/app.schema.yaml": "type: object\nproperties:\n  port: { type: integer }\n",
  "environments/dev/app.yaml": "port: 1\n",
};

describe("a schema file named .schema.yml", () => {
  it("is a located invalid-name finding in validate", async () => {
    const dir = gitdir({ ...TREE, "schemas/cache.schema.yml": "type: object\n" }, {});
    const result = await validateRepository({ files: createWorktreeFiles(dir), secrets: null });
    expect(result.findings).toContainEqual(
      expect.objectContaining({ code: "invalid-name", file: "schemas/cache.schema.yml", line: 1, column: 1 }),
    );
  });

  it("is not a changed layer in the diff, and its namespace does not exist", async () => {
    const dir = gitdir(TREE, { commit: "initial" });
    writeTree(dir, {
      "schemas/cache.schema.yml": "type: object\nproperties:\n  ttl: { type: integer, default: 5 }\n",
      "strata.yml": "version: 1\n",
    });
    commitAll(dir, "misnamed");
    const { result } = await diffConfig({ dir, base: "HEAD~1", head: "HEAD" });
    expect(result.changedLayers).toEqual([]);
    expect(result.environments.dev?.changes ?? []).toEqual([]);
  });
});
