// @module-tag e2e
// `strata serve --repo DIR` trusts the keys of DIR's own strata.yaml: like `strata agent --repo`, it never
// searches parent directories, so a checkout placed inside another repository cannot lend it its trust.
import { cpSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { projectRoot } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";

afterAll(cleanupTempdirs);

describe("strata serve --repo", () => {
  it("refuses a directory without strata.yaml instead of using a parent's", async () => {
    const parent = tempdir();
    cpSync(join(projectRoot, "strata.yaml"), join(parent, "strata.yaml"));
    const sub = join(parent, "sub");
    mkdirSync(sub);
    let started: ServeProcess | null = null;
    const error = await spawnServe(["--store", `file:${join(tempdir(), "store")}`, "--repo", sub]).then(
      (s) => {
        started = s;
        return null;
      },
      (e: Error) => e,
    );
    await (started as ServeProcess | null)?.stop("SIGKILL");
    expect(error?.message).toMatch(/^serve exited 2:/);
    expect(error?.message).toContain(`${join(sub, "strata.yaml")} does not exist`);
    expect(error?.message).not.toContain("    at ");
  });
});
