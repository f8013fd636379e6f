// "Did you mean" wherever a name is looked up: an unknown parent in strata.yaml, an unresolved reference,
// a key given to explain; a misspelt key is an invocation problem (exit 2), like a misspelt --env.
import { afterAll, describe, expect, it } from "vitest";
import { explainKey } from "../../../src/app/explain.js";
import { validateRepository } from "../../../src/app/validate.js";
import { EXIT } from "../../../src/core/findings.js";
import { createWorktreeFiles } from "../../../src/io/repo/worktree.js";
import { cleanupTempdirs } from "../../support/gitdir.js";
import { BASE_REPO, fixtureRepo } from "../../support/repo-fixture.js";

afterAll(cleanupTempdirs);

const validate = async (overrides: Record<string, string | null>) =>
  (await validateRepository({ files: createWorktreeFiles(fixtureRepo(overrides)), secrets: null })).findings;

describe("did you mean", () => {
  it("an unknown parent names the closest declared environment", async () => {
    const findings = await validate({
      "strata.yaml": BASE_REPO["strata.yaml"]!.toString().replace(
        "staging: { parent: base }",
        "staging: { parent: bsae }",
      ),
    });
    const f = findings.find((x) => x.code === "unknown-environment");
    expect(f).toMatchObject({ file: "strata.yaml", line: 4 });
    expect(f!.hint).toMatch(/did you mean "base"\?/);
  });

  it("an unknown parent far from every name has no guess, only the list", async () => {
    const findings = await validate({
      "strata.yaml": BASE_REPO["strata.yaml"]!.toString().replace(
        "staging: { parent: base }",
        "staging: { parent: qqqqqqq }",
      ),
    });
    const f = findings.find((x) => x.code === "unknown-environment");
    expect(f!.hint).not.toMatch(/did you mean/);
    expect(f!.hint).toMatch(/declared: base, production;/);
  });

  it("an unresolved reference names the closest key of the environment", async () => {
    const findings = await validate({ "environments/production/app.yaml": "replicas: 3\nurl: ${app.nmae}\n" });
    const f = findings.find((x) => x.code === "unresolved-reference");
    expect(f).toMatchObject({ file: "environments/production/app.yaml", line: 2, column: 6 });
    expect(f!.hint).toBe("did you mean ${app.name}?");
  });

  it("explain: a misspelt key is exit 2 with the closest key", async () => {
    const files = createWorktreeFiles(fixtureRepo());
    const error = await explainKey({ files, environment: "production", key: "app.replica", secrets: null }).catch(
      (e: unknown) => e,
    );
    expect(error).toMatchObject({ code: "unknown-key", exitCode: EXIT.usage });
    expect((error as Error & { hint: string }).hint).toMatch(/did you mean app\.replicas\?/);
  });
});
