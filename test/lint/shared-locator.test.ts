// The tests find the shared corpus one way (test/support/shared.ts, mirrored by bench/lib.mjs), never through
// a path of a particular machine; a missing requirement fails in CI and is a named skip elsewhere.
import { spawnSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { projectRoot } from "../support/cli.js";
import { conformance, conformanceRoot, lacking, sharedDir } from "../support/shared.js";

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

const locators = new Set(["test/support/shared.ts", "bench/lib.mjs"]);
const sources = [...files(join(projectRoot, "test")), ...files(join(projectRoot, "bench"))].map((f) =>
  relative(projectRoot, f),
);

describe("one locator for ../shared", () => {
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

describe("the SOPS conformance files", () => {
  it("are vendored in the repository, with a note of their origin and licence", () => {
    expect(relative(projectRoot, conformanceRoot)).toBe(join("test", "fixtures", "sops"));
    const readme = readFileSync(join(conformanceRoot, "README.md"), "utf8");
    for (const word of ["getsops/sops", "MPL-2.0", "humphd/sops-age", "MIT"]) expect(readme).toContain(word);
  });

  it("hold every file the expected documents name, and both test keys", () => {
    const expected = readdirSync(conformance("expected")).filter((f) => f.endsWith(".json"));
    expect(expected.length).toBeGreaterThan(10);
    for (const f of expected) {
      const { fixture } = JSON.parse(readFileSync(conformance(join("expected", f)), "utf8")) as { fixture: string };
      expect(existsSync(conformance(fixture)), fixture).toBe(true);
    }
    expect(existsSync(conformance("sops-age/key.txt"))).toBe(true);
    expect(existsSync(conformance("sops/pgp/sops_functional_tests_key.asc"))).toBe(true);
  });

  it("are never looked for in the shared corpus (only the repository generator is)", () => {
    const offenders = sources
      .filter((f) => f !== "test/lint/shared-locator.test.ts")
      .filter((f) => /sharedPath\(|sharedDir\b/.test(readFileSync(join(projectRoot, f), "utf8")))
      .filter((f) => !locators.has(f));
    expect(offenders).toEqual([]);
    const locator = readFileSync(join(projectRoot, "test/support/shared.ts"), "utf8");
    expect([...locator.matchAll(/sharedPath\("([^"]+)"\)|shared: "([^"]+)"/g)].map((m) => m[1] ?? m[2])).toEqual([
      "bench/gen-config-repo.mjs",
      "bench/gen-config-repo.mjs",
    ]);
  });
});

describe("a missing requirement", () => {
  const saved = { CI: process.env.CI, STRATA_SHARED_DIR: process.env.STRATA_SHARED_DIR };
  afterEach(() => {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  });
  const oracle = { shared: "no/such/file", what: "the test oracle" };

  it("is a skip that names what is missing outside CI", () => {
    delete process.env.CI;
    expect(lacking("suite", oracle, { tool: "no-such-tool-strata" }, { module: "no-such-module-strata" })).toMatch(
      /^suite: needs the test oracle at .*no\/such\/file.*STRATA_SHARED_DIR.*; no-such-tool-strata on PATH.*; the npm module no-such-module-strata/,
    );
    expect(lacking("suite", { tool: "node" }, { module: "vitest" })).toBeNull();
  });

  it("is a failure in CI", () => {
    process.env.CI = "true";
    expect(() => lacking("suite", { tool: "no-such-tool-strata" })).toThrow(
      /suite: needs no-such-tool-strata on PATH .*CI=true: a missing requirement is a failure/,
    );
    expect(() => lacking("suite", { module: "no-such-module-strata" })).toThrow(/CI=true/);
  });

  it("is an oracle outside the repository: a failure in CI only where CI provides the corpus (STRATA_SHARED_DIR)", () => {
    process.env.CI = "true";
    delete process.env.STRATA_SHARED_DIR;
    expect(lacking("suite", oracle)).toMatch(/^suite: needs the test oracle/);
    process.env.STRATA_SHARED_DIR = "/no/such/corpus";
    expect(() => lacking("suite", oracle)).toThrow(/suite: needs the test oracle .*CI=true/);
  });
});
