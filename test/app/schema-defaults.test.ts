// `strata validate` on a schema whose $refs fan out 30 levels deep with a default at the bottom (2^30
// defaults): a located invalid-schema finding, not a hang.
import { afterAll, describe, expect, it } from "vitest";
import { validateRepository } from "../../src/app/validate.js";
import { createWorktreeFiles } from "../../src/io/repo/worktree.js";
import { cleanupTempdirs, gitdir } from "../support/gitdir.js";

afterAll(cleanupTempdirs);

function fanOutSchema(depth: number): string {
  const lines = ["type: object", "properties:", "  top: { $ref: '#/$defs/l0' }", "$defs:"];
  for (let i = 0; i < depth; i++)
    lines.push(
      `  l${i}:`,
      "    type: object",
      "    properties:",
      `      a: { $ref: '#/$defs/l${i + 1}' }`,
      `      b: { $ref: '#/$defs/l${i + 1}' }`,
    );
  lines.push(`  l${depth}: { type: integer, default: 1 }`);
  return `${lines.join("\n")}\n`;
}

describe("a $ref fan-out in a schema", () => {
  it("is an invalid-schema finding at the $ref where the expansion stopped", async () => {
    const dir = gitdir(
      {
        "strata.yaml": "version: 1\nenvironments:\n  dev: {}\n",
        "schemas/deep.schema.yaml": fanOutSchema(30),
        "environments/dev/deep.yaml": "{}\n",
      },
      {},
    );
    const result = await validateRepository({ files: createWorktreeFiles(dir), secrets: null });
    expect(result.ok).toBe(false);
    const f = result.findings.find((x) => x.code === "invalid-schema");
    expect(f).toMatchObject({ file: "schemas/deep.schema.yaml", key: "deep" });
    expect(f!.line).toBeGreaterThan(1);
    expect(f!.message).toMatch(
      /^schemas\/deep\.schema\.yaml:\d+:\d+: the schema's defaults expand past 100,000 subschemas \(\$ref fan-out at \$defs\/l\d+\/properties\/[ab]\)/,
    );
  });
});

describe("schema properties named like members of every JavaScript object", () => {
  const schema = [
    "type: object",
    "properties:",
    "  name: { type: string }",
    "  constructor: { type: string }",
    "  toString: { type: string }",
    "  hasOwnProperty: { type: integer }",
    "",
  ].join("\n");
  const validateValues = (values: string) =>
    validateRepository({
      files: createWorktreeFiles(
        gitdir(
          {
            "strata.yaml": "version: 1\nenvironments:\n  dev: {}\n",
            "schemas/app.schema.yaml": schema,
            "environments/dev/app.yaml": values,
          },
          {},
        ),
      ),
      secrets: null,
    });

  it("are not set when the values do not set them: the namespace validates", async () => {
    const result = await validateValues("name: hello\n");
    expect(result.findings).toEqual([]);
    expect(result.ok).toBe(true);
  });

  it("cannot be set: such a key in a values file is refused where it is written", async () => {
    const result = await validateValues("name: hello\nconstructor: 3\n");
    expect(result.ok).toBe(false);
    expect(result.findings.map((f) => [f.code, f.file, f.line, f.column])).toEqual([
      ["invalid-key", "environments/dev/app.yaml", 2, 1],
    ]);
  });
});
