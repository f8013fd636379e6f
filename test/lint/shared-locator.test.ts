// The tests find the shared corpus one way (test/support/shared.ts, mirrored by bench/lib.mjs), never through
// a path of a particular machine; a missing requirement fails in CI and is a named skip elsewhere.
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { projectRoot } from "../support/cli.js";
import { lacking, sharedDir } from "../support/shared.js";

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory()
      ? name === "fixtures"
        ? []
        : files(full)
      : /\.(ts|mjs|js)$/.test(name)
        ? [full]
        : [];
  });
}

describe("one locator for ../shared", () => {
  const locators = new Set(["test/support/shared.ts", "bench/lib.mjs"]);
  const sources = [...files(join(projectRoot, "test")), ...files(join(projectRoot, "bench"))].map((f) =>
    relative(projectRoot, f),
  );

  it("no test or bench names an absolute path of this machine or looks for shared/ itself", () => {
    const offenders = sources
      .filter((f) => !locators.has(f) && f !== "test/lint/shared-locator.test.ts")
      .filter((f) => {
        const text = readFileSync(join(projectRoot, f), "utf8");
        return /["'`]\/work\//.test(text) || /\.\.\/shared|["']\.\.["'],\s*["']shared["']/.test(text);
      });
    expect(offenders).toEqual([]);
  });

  it("is STRATA_SHARED_DIR when set, else shared/ beside the checkout", () => {
    expect(sharedDir).toBe(process.env.STRATA_SHARED_DIR ?? join(projectRoot, "..", "shared"));
    const r = spawnSync(
      process.execPath,
      ["--input-type=module", "-e", "import { sharedDir } from './bench/lib.mjs'; console.log(sharedDir)"],
      {
        cwd: projectRoot,
        env: { ...process.env, STRATA_SHARED_DIR: "/elsewhere/corpus" },
        encoding: "utf8",
      },
    );
    expect(r.stdout.trim()).toBe("/elsewhere/corpus");
  });
});

describe("a missing requirement", () => {
  const saved = process.env.CI;
  afterEach(() => {
    if (saved === undefined) delete process.env.CI;
    else process.env.CI = saved;
  });

  it("is a skip that names what is missing outside CI", () => {
    delete process.env.CI;
    expect(lacking("suite", { shared: "no/such/file" }, { tool: "no-such-tool-strata" })).toMatch(
      /^suite: needs .*no\/such\/file.*STRATA_SHARED_DIR.*; no-such-tool-strata on PATH/,
    );
    expect(lacking("suite", { tool: "node" })).toBeNull();
  });

  it("is a failure in CI", () => {
    process.env.CI = "true";
    expect(() => lacking("suite", { tool: "no-such-tool-strata" })).toThrow(
      /suite: needs no-such-tool-strata on PATH .*CI=true: a missing requirement is a failure/,
    );
  });
});
