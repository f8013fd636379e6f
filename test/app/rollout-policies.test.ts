// `strata validate` reports the problems of rollout policies like any other strata.yaml problem.
import { afterAll, describe, expect, it } from "vitest";
import { validateRepository } from "../../src/app/validate.js";
import { createWorktreeFiles } from "../../src/io/repo/worktree.js";
import { cleanupTempdirs, gitdir } from "../support/gitdir.js";

afterAll(cleanupTempdirs);

const settings = (rollouts: string[]) =>
  [
    "version: 1",
    "environments:",
    "  staging: {}",
    "  production: {}",
    "rollouts:",
    "  environments:",
    ...rollouts,
    "",
  ].join("\n");

describe("validate with rollout policies", () => {
  it("a good policy validates; a bad one is a located finding, exit 1 material", async () => {
    const good = gitdir({ "strata.yaml": settings(["    production: { canary: { percent: 5, bake: 15m } }"]) }, {});
    expect(await validateRepository({ files: createWorktreeFiles(good), secrets: null })).toMatchObject({
      ok: true,
      findings: [],
    });

    const bad = gitdir({ "strata.yaml": settings(["    production: { canary: { percent: 5, bake: 15 } }"]) }, {});
    const result = await validateRepository({ files: createWorktreeFiles(bad), secrets: null });
    expect(result.ok).toBe(false);
    expect(result.findings.map((f) => [f.code, f.file, f.line, f.column])).toEqual([
      ["invalid-type", "strata.yaml", 7, 47],
    ]);
    expect(result.findings[0]!.message).toBe(
      'strata.yaml:7:47: rollouts.environments.production.canary.bake: 15 is not a duration: write a duration as a number and a unit (ms, s, m, h, d), e.g. "30s", "5m" or "1h30m"',
    );
  });
});
