// @module-tag e2e
// Under GitHub Actions (GITHUB_ACTIONS=true), a green `validate` still says what passed, in the log and in the
// job summary, and `envs` prints its tree as well as any annotations.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { exampleKeyEnv, strata } from "../support/cli.js";

afterAll(cleanupTempdirs);

describe("GitHub Actions output", () => {
  it("validate prints a success line and appends a job summary naming the environments", async () => {
    const summary = join(tempdir(), "summary.md");
    const r = await strata(["validate"], {
      env: { ...exampleKeyEnv, GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^✓ 4 environment\(s\) valid: development, production, production-eu, staging$/m);
    const md = readFileSync(summary, "utf8");
    expect(md).toContain("### strata validate: 4 environment(s) (development, production, production-eu, staging)");
    expect(md).toContain(":white_check_mark: no errors");
  });

  it("envs prints the tree", async () => {
    const r = await strata(["envs"], { env: { GITHUB_ACTIONS: "true" } });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/^base \[abstract\]/m);
    expect(r.stdout).toMatch(/│ {2}└─ production-eu \[production\]/);
  });
});
