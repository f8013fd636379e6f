// @module-tag slow
// A schema `$ref` strata cannot follow is a located invalid-schema finding, never an internal error
// (`$ref: "#/%E0"` made validate exit 70 with `URIError: URI malformed`); and every `$ref` string, whatever
// it holds, gives either a clean result or located findings.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import { validateRepository } from "../../src/app/validate.js";
import { createWorktreeFiles } from "../../src/io/repo/worktree.js";
import { cleanupTempdirs, gitdir } from "../support/gitdir.js";

afterAll(cleanupTempdirs);

const schemaWithRef = (ref: string): string =>
  `type: object\nproperties:\n  a:\n    $ref: ${JSON.stringify(ref)}\n  b: { type: integer, default: 1 }\n$defs:\n  port: { type: integer }\n  "x/y": { type: string }\n`;

function repo(ref: string): string {
  return gitdir(
    {
      "strata.yaml": "version: 1\nenvironments:\n  dev: {}\n",
      "schemas/app.schema.yaml": schemaWithRef(ref),
      "environments/dev/app.yaml": "a: 1\n",
    },
    {},
  );
}

describe("schema $ref", () => {
  it.each([
    ["#/%E0", "is not a JSON Pointer"],
    ["#/$defs/a~2", "is not a JSON Pointer"],
    ["#/$defs/nope", "points at no schema"],
  ])("%s is an invalid-schema finding at the $ref", async (ref, message) => {
    const result = await validateRepository({ files: createWorktreeFiles(repo(ref)), secrets: null });
    expect(result.ok).toBe(false);
    const f = result.findings.filter((x) => x.code === "invalid-schema");
    expect(f).toHaveLength(1);
    expect(f[0]).toMatchObject({ file: "schemas/app.schema.yaml", line: 4, column: 11, key: "app" });
    expect(f[0]!.message).toContain(`schemas/app.schema.yaml:4:11: properties.a.$ref ${message}`);
  });

  it.each(["#/$defs/port", "#/$defs/x~1y", "#/%24defs/port"])("%s is followed", async (ref) => {
    const result = await validateRepository({ files: createWorktreeFiles(repo(ref)), secrets: null });
    expect(result.findings.filter((f) => f.code === "invalid-schema")).toEqual([]);
  });

  it("any $ref string gives located findings or none, never an exception", async () => {
    const dir = repo("#");
    const files = createWorktreeFiles(dir);
    const fragment = fc.oneof(
      fc.string({ unit: "binary" }),
      fc
        .array(
          fc.oneof(
            fc.constantFrom("$defs", "port", "x~1y", "~", "~2", "%", "%E0", "%2F", "%25", "properties"),
            fc.string(),
          ),
        )
        .map((segments) => segments.map((s) => `/${s}`).join("")),
    );
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fragment.map((f) => `#${f}`),
          fc.string(),
        ),
        async (ref) => {
          writeFileSync(join(dir, "schemas/app.schema.yaml"), schemaWithRef(ref));
          const result = await validateRepository({ files, secrets: null });
          for (const f of result.findings.filter((x) => x.file === "schemas/app.schema.yaml")) {
            expect(f.line).toBeGreaterThan(0);
            expect(f.message).toMatch(/^schemas\/app\.schema\.yaml:\d+:\d+: /);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});
