// Errors never cascade: a file that cannot be read (a syntax error, a duplicate key, a SOPS file that is
// not one) is reported once, and nothing that depends on what it would have set is reported with it: no
// missing-required for a key it sets, no unresolved-reference into its namespace, no guess about values
// a later layer of the chain might have changed. Findings a broken file cannot explain still come through.
import { afterAll, describe, expect, it } from "vitest";
import { validateRepository } from "../../../src/app/validate.js";
import { createWorktreeFiles } from "../../../src/io/repo/worktree.js";
import { cleanupTempdirs } from "../../support/gitdir.js";
import { fixtureRepo } from "../../support/repo-fixture.js";

afterAll(cleanupTempdirs);

async function validate(overrides: Record<string, string | null>) {
  const result = await validateRepository({ files: createWorktreeFiles(fixtureRepo(overrides)), secrets: null });
  return result.findings.filter((f) => f.severity === "error");
}

const WEB_SCHEMA = "type: object\nproperties:\n  upstream: { type: string }\n  port: { type: integer }\n";

describe("a layer that cannot be read", () => {
  it("an unclosed { in base is one finding at the {, with no missing-required for the key it sets", async () => {
    const findings = await validate({ "environments/base/app.yaml": "name: checkout\npool: { max: 3\n" });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: "yaml-syntax", file: "environments/base/app.yaml", line: 2, column: 7 });
  });

  it("a duplicate key is one finding, with no missing-required", async () => {
    const findings = await validate({ "environments/base/app.yaml": "name: checkout\nname: other\n" });
    expect(findings.map((f) => f.code)).toEqual(["duplicate-key"]);
  });

  it("a .sops.yaml file that is not SOPS is one finding, with no missing-required", async () => {
    const findings = await validate({
      "environments/base/app.yaml": null,
      "environments/base/app.sops.yaml": "name: checkout\n",
    });
    expect(findings.map((f) => f.code)).toEqual(["invalid-sops-file"]);
  });

  it("references into its namespace are not reported as unresolved", async () => {
    const findings = await validate({
      "environments/base/app.yaml": "name: checkout\npool: { max: 3\n",
      "schemas/web.schema.yaml": WEB_SCHEMA,
      "environments/base/web.yaml": "upstream: ${app.name}\n",
    });
    expect(findings.map((f) => f.code)).toEqual(["yaml-syntax"]);
  });

  it("a value a later layer sets is still checked; one an earlier layer sets is not (the broken one might change it)", async () => {
    const findings = await validate({
      "environments/base/app.yaml": "name: checkout\nreplicas: many\n",
      "environments/staging/app.yaml": "name: [broken\n",
      "environments/production/app.yaml": "replicas: 300\n",
    });
    expect(findings.map((f) => `${f.code} ${f.file}:${f.line}`).sort()).toEqual([
      // production's own value is wrong whatever staging says; base's is overridden in production and
      // might be in staging, so it is reported once, for production only.
      "constraint-violation environments/production/app.yaml:1",
      "yaml-syntax environments/staging/app.yaml:1",
    ]);
  });

  it("a reference into an intact namespace is still checked", async () => {
    const findings = await validate({
      "environments/base/app.yaml": "name: checkout\npool: { max: 3\n",
      "schemas/web.schema.yaml": WEB_SCHEMA,
      "environments/base/web.yaml": "upstream: ${web.prot}\nport: 80\n",
    });
    expect(findings.map((f) => f.code).sort()).toEqual(["unresolved-reference", "yaml-syntax"]);
    expect(findings.find((f) => f.code === "unresolved-reference")!.environments).toEqual(["production", "staging"]);
  });
});

describe("a schema that cannot be read", () => {
  it("is one finding: its namespace's values and the references into it are not checked", async () => {
    const findings = await validate({
      "schemas/app.schema.yaml": "type: object\nrequired: [name]\nproperties:\n  name: { type: string\n",
      "schemas/web.schema.yaml": WEB_SCHEMA,
      "environments/base/web.yaml": "upstream: ${app.name}\n",
    });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: "yaml-syntax", file: "schemas/app.schema.yaml", line: 4, column: 9 });
  });

  it("one bad keyword value is one finding", async () => {
    const findings = await validate({
      "schemas/app.schema.yaml": "type: object\nrequired: [name]\nproperties:\n  name: { type: strin }\n",
    });
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({ code: "invalid-schema", line: 4, column: 17 });
    expect(findings[0]!.message).toMatch(/properties\.name\.type must be one of "array", "boolean", .*"string"/);
    expect(findings[0]!.hint).toBe('did you mean "string"?');
  });
});
