// @module-tag e2e
// Environment and namespace names are at most 64 characters (they become file names and URL segments).
import { afterAll, describe, expect, it } from "vitest";
import { strataYamlSchema } from "../../src/core/settings/strata-yaml-schema.js";
import { isValidName, MAX_NAME_LENGTH } from "../../src/core/names.js";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, gitdir } from "../support/gitdir.js";

afterAll(cleanupTempdirs);

const long = "a".repeat(65);
const max = "b".repeat(64);

describe("name length", () => {
  it("accepts 64 characters and refuses 65, in the name rules and the strata.yaml schema", () => {
    expect(MAX_NAME_LENGTH).toBe(64);
    expect(isValidName(max)).toBe(true);
    expect(isValidName(long)).toBe(false);
    expect(strataYamlSchema.properties.environments.propertyNames).toMatchObject({ maxLength: 64 });
  });

  it("validate reports an overlong environment or namespace name with its location", async () => {
    const dir = gitdir({
      "strata.yaml": `version: 1\nenvironments:\n  ${max}: {}\n  ${long}: { parent: ${max} }\n`,
      "schemas/app.schema.yaml": "type: object\n",
    });
    const r = await strata(["validate", "--format", "json"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    const findings = (
      JSON.parse(r.stdout) as {
        findings: { code: string; file: string; line: number; column: number; message: string }[];
      }
    ).findings;
    expect(findings).toContainEqual(
      expect.objectContaining({ code: "invalid-name", file: "strata.yaml", line: 4, column: 3 }),
    );
    expect(findings.some((f) => f.message.includes(max) && f.code === "invalid-name")).toBe(false);

    const ns = gitdir({
      "strata.yaml": "version: 1\nenvironments:\n  staging: {}\n",
      [`schemas/${long}.schema.yaml`]: "type: object\n",
      [`environments/staging/${long}.yaml`]: "x: 1\n",
    });
    const n = await strata(["validate", "--format", "json"], { cwd: ns });
    expect(n.exitCode).toBe(1);
    expect((JSON.parse(n.stdout) as { findings: { code: string }[] }).findings.map((f) => f.code)).toContain(
      "invalid-name",
    );
  }, 60_000);
});
