// @module-tag e2e
// Parsing and validation give one true, located answer for each problem (the built CLI, end to end).
import { afterAll, describe, expect, it } from "vitest";
import type { Finding } from "../../src/core/findings.js";
import { strata } from "../support/cli.js";
import { cleanupTempdirs } from "../support/gitdir.js";
import { fixtureRepo } from "../support/repo-fixture.js";

afterAll(cleanupTempdirs);

async function validateJson(
  dir: string,
  ...args: string[]
): Promise<{ exitCode: number; findings: (Finding & { environments: string[] })[]; stderr: string }> {
  const r = await strata(["validate", "--format", "json", ...args], { cwd: dir });
  const doc = JSON.parse(r.stdout) as { findings: (Finding & { environments: string[] })[] };
  return { exitCode: r.exitCode, findings: doc.findings, stderr: r.stderr };
}

describe("an over-indented line", () => {
  it("is one yaml-syntax finding at the over-indented line, saying it is indented too far", async () => {
    const dir = fixtureRepo({ "environments/base/app.yaml": "name: checkout\npool:\n  max: 3\n    min: 2\n" });
    const r = await strata(["validate"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const lines = r.stdout.split("\n").filter((l) => l.startsWith("environments/base/app.yaml"));
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^environments\/base\/app\.yaml:4:5: error \[yaml-syntax\] .*indented more than/);
    expect(r.stdout).not.toMatch(/nesting deeper/);
  });
});

describe("a deep inheritance chain", () => {
  function chainRepo(levels: number): string {
    const envs = ["version: 1", "environments:", "  e0: {}"];
    for (let i = 1; i < levels; i++) envs.push(`  e${i}: { parent: e${i - 1} }`);
    return fixtureRepo({
      "strata.yaml": envs.join("\n") + "\n",
      "environments/base/app.yaml": null,
      "environments/production/app.yaml": null,
      "environments/e0/app.yaml": "name: checkout\n",
      "environments/e30/app.yaml": "replicas: 2\n",
      ...(levels > 100 ? { "environments/e100/app.yaml": "replicas: 2\n" } : {}),
    });
  }

  it("4,000 levels answer with a located finding at the 65th level, not a crash", async () => {
    const { exitCode, findings, stderr } = await validateJson(chainRepo(4000));
    expect(stderr).not.toMatch(/call stack|at .*\.js/);
    expect(exitCode).toBe(1);
    const deep = findings.filter((f) => f.file === "strata.yaml");
    expect(deep).toHaveLength(1);
    // e64 is the 65th level: its `parent: e63` (line 3 + 64).
    expect(deep[0]).toMatchObject({ code: "constraint-violation", line: 67, column: 18, environment: "e64" });
    expect(deep[0]!.message).toMatch(/64 levels/);
    // The environments below the limit are not reported as undeclared.
    expect(findings.filter((f) => f.code === "unknown-environment")).toEqual([]);
  });

  it("64 levels are allowed", async () => {
    const { exitCode, findings } = await validateJson(chainRepo(64));
    expect(findings.filter((f) => f.severity === "error")).toEqual([]);
    expect(exitCode).toBe(0);
  });
});

describe("integers beyond the safe range", () => {
  it("a value above 2^53 is refused where it is written, naming the safe range", async () => {
    const dir = fixtureRepo({ "environments/base/app.yaml": "name: checkout\nreplicas: 9007199254740993\n" });
    const { exitCode, findings } = await validateJson(dir);
    expect(exitCode).toBe(1);
    const f = findings.find((x) => x.file === "environments/base/app.yaml");
    expect(f).toMatchObject({ code: "invalid-type", line: 2, column: 11 });
    expect(f!.message).toMatch(/9007199254740991/);
    expect(JSON.stringify(findings)).not.toMatch(/9007199254740992/);
  });

  it("a schema default below -(2^53-1) is refused in the schema", async () => {
    const dir = fixtureRepo({
      "schemas/big.schema.yaml": "type: object\nproperties:\n  n: { type: integer, default: -9007199254740993 }\n",
    });
    const { exitCode, findings } = await validateJson(dir);
    expect(exitCode).toBe(1);
    expect(findings).toContainEqual(
      expect.objectContaining({ code: "invalid-type", file: "schemas/big.schema.yaml", line: 3, column: 32 }),
    );
  });

  it("the largest safe integer is kept exactly", async () => {
    const dir = fixtureRepo({
      "schemas/big.schema.yaml": "type: object\nproperties:\n  n: { type: integer }\n",
      "environments/base/big.yaml": "n: -9007199254740991\n",
    });
    const r = await strata(["resolve", "--env", "staging", "--format", "json"], { cwd: dir });
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/"n": -9007199254740991/);
  });
});

describe("a broken strata.yaml", () => {
  it("with --env, reports its own located findings, not an unknown environment", async () => {
    const dir = fixtureRepo({
      "strata.yaml": "version: 1\nenvironments:\n  base: { abstract: true\n  staging: { parent: base }\n",
    });
    const r = await strata(["validate", "--env", "staging"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout + r.stderr).not.toMatch(/unknown environment/);
    expect(r.stdout).toMatch(/^strata\.yaml:\d+:\d+: error \[yaml-syntax\]/m);
  });

  it("with --env naming an environment whose parent is misspelt, reports the parent at its line", async () => {
    const dir = fixtureRepo({
      "strata.yaml":
        "version: 1\nenvironments:\n  base: { abstract: true }\n  staging: { parent: bsae, prodution: true }\n  production: { parent: base }\n",
    });
    const r = await strata(["validate", "--env", "staging", "--format", "json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(r.stdout) as { findings: Finding[] };
    expect(doc.findings.map((f) => [f.code, f.file, f.line, f.column])).toEqual([
      ["unknown-environment", "strata.yaml", 4, 22],
      ["unknown-key", "strata.yaml", 4, 28],
    ]);
  });
});

describe("a problem in a parent layer", () => {
  it("is reported once with every environment it affects", async () => {
    const dir = fixtureRepo({ "environments/base/app.yaml": "name: checkout\nmode: turbo\n" });
    const { exitCode, findings } = await validateJson(dir);
    expect(exitCode).toBe(1);
    const mode = findings.filter((f) => f.key === "app.mode");
    expect(mode).toHaveLength(1);
    expect(mode[0]).toMatchObject({
      environment: "production",
      environments: ["production", "staging"],
      file: "environments/base/app.yaml",
      line: 2,
      column: 7,
    });
    const text = await strata(["validate"], { cwd: dir });
    expect(text.stdout).toMatch(/app\.mode .*\(production, staging\)/);
    const gh = await strata(["validate", "--format", "github"], { cwd: dir });
    expect(gh.stdout).toMatch(
      /::error file=environments\/base\/app\.yaml,line=2,col=7,title=constraint-violation::.*\(production, staging\)/,
    );
  });

  it("a finding of one environment keeps environments: [it]", async () => {
    const dir = fixtureRepo({ "environments/production/app.yaml": "replicas: 30\n" });
    const { findings } = await validateJson(dir);
    expect(findings.find((f) => f.key === "app.replicas")).toMatchObject({
      environment: "production",
      environments: ["production"],
    });
  });
});

describe("an inheritance cycle", () => {
  it("reports only the cycle, with a hint on how to break it", async () => {
    const dir = fixtureRepo({
      "strata.yaml":
        "version: 1\nenvironments:\n  base: { abstract: true }\n  staging: { parent: production }\n  production: { parent: staging }\n",
    });
    const { exitCode, findings } = await validateJson(dir);
    expect(exitCode).toBe(1);
    expect(findings.map((f) => f.code)).toEqual(["circular-inheritance"]);
    expect(findings[0]!.hint).toMatch(/parent/);
  });
});

describe("an unknown key", () => {
  it("suggests the closest schema key", async () => {
    const dir = fixtureRepo({ "environments/staging/app.yaml": "replica: 2\npool: { mx: 3 }\n" });
    const { findings } = await validateJson(dir);
    const unknown = findings.filter((f) => f.code === "unknown-key");
    expect(unknown.map((f) => [f.key, f.hint])).toEqual([
      ["app.replica", expect.stringMatching(/did you mean replicas\?/)],
      ["app.pool.mx", expect.stringMatching(/did you mean max\?/)],
    ]);
  });

  it("suggests nothing when no key is close", async () => {
    const dir = fixtureRepo({ "environments/staging/app.yaml": "zzzzzzzz: 2\n" });
    const { findings } = await validateJson(dir);
    expect(findings.find((f) => f.code === "unknown-key")!.hint).not.toMatch(/did you mean/);
  });
});
