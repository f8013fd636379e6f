// @module-tag e2e
// Resolution checked against the generator's independent computation of every environment
// (shared/bench/gen-config-repo.mjs --expected), with and without the resolution features.
import { execFileSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadRepository } from "../../src/app/repository.js";
import { validateRepository } from "../../src/app/validate.js";
import { createWorktreeFiles } from "../../src/io/repo/worktree.js";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { generatorPath, lacking, needsGenerator } from "../support/shared.js";

afterAll(cleanupTempdirs);

function generate(args: string[]): string {
  const dir = join(tempdir(), "repo");
  execFileSync(process.execPath, [generatorPath, dir, "--expected", ...args], { stdio: "pipe" });
  return dir;
}

describe.skipIf(lacking("generated repositories", needsGenerator))("generated repositories", () => {
  it.each([
    ["default size", []],
    ["with resolution features", ["--features"]],
    [
      "features, another seed, more overrides",
      ["--features", "--seed", "7", "--override", "0.4", "--namespaces", "20", "--envs", "16"],
    ],
  ])("resolve deep-equals .expected/<env>.json for every environment (%s)", async (_name, args) => {
    const dir = generate(args);
    const repo = await loadRepository(createWorktreeFiles(dir), { secrets: null });
    expect(repo.findings.filter((f) => f.severity === "error")).toEqual([]);
    const expectedFiles = readdirSync(join(dir, ".expected"));
    expect(expectedFiles.length).toBeGreaterThan(3);
    for (const file of expectedFiles) {
      const env = file.replace(/\.json$/, "");
      const resolved = repo.resolver.resolve(env);
      expect(
        resolved.findings.filter((f) => f.severity === "error"),
        env,
      ).toEqual([]);
      expect(resolved.config, env).toEqual(JSON.parse(readFileSync(join(dir, ".expected", file), "utf8")));
    }
    const validation = await validateRepository({ files: createWorktreeFiles(dir), secrets: null });
    expect(validation.ok).toBe(true);
  });

  it("the CLI prints the same effective config as JSON", async () => {
    const dir = generate(["--features", "--namespaces", "10"]);
    for (const env of ["production", "staging-r1"]) {
      const r = await strata(["resolve", "--repo", dir, "--env", env, "--format", "json"]);
      expect(r.exitCode).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual(JSON.parse(readFileSync(join(dir, ".expected", `${env}.json`), "utf8")));
    }
  });
});
