// @module-tag e2e
// Every error code of SPEC §6 that validation produces, end to end through the built CLI: the code, the
// location (file:line:column in the message and in JSON), the exit code, and no stack trace.
import { afterAll, describe, expect, it } from "vitest";
import { strata } from "../support/cli.js";
import { cleanupTempdirs } from "../support/gitdir.js";
import { fixtureRepo } from "../support/repo-fixture.js";

afterAll(cleanupTempdirs);

interface Case {
  code: string;
  files: Record<string, string | Uint8Array | null>;
  file: string | null;
  line?: number;
  column?: number;
  exit: number;
  args?: string[];
}

const deep = Array.from({ length: 20000 }, () => "[").join("") + Array.from({ length: 20000 }, () => "]").join("");
const bomb = [
  'a: &a ["x","x","x","x","x","x","x","x","x","x"]',
  ...Array.from(
    { length: 9 },
    (_, i) =>
      `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10)
        .fill(`*${String.fromCharCode(97 + i)}`)
        .join(",")}]`,
  ),
].join("\n");

const cases: [string, Case][] = [
  [
    "broken YAML",
    {
      code: "yaml-syntax",
      files: { "environments/staging/app.yaml": "name: [unclosed\nreplicas: 2\n" },
      file: "environments/staging/app.yaml",
      // At the [ that is never closed, not where the parser gave up.
      line: 1,
      column: 7,
      exit: 1,
    },
  ],
  [
    "binary garbage",
    {
      code: "yaml-syntax",
      files: { "environments/staging/app.yaml": new Uint8Array([0x6e, 0x3a, 0x20, 0xc3, 0x28, 0xff, 0x00]) },
      file: "environments/staging/app.yaml",
      line: 1,
      column: 4,
      exit: 1,
    },
  ],
  [
    "20,000-deep nesting",
    {
      code: "yaml-limit",
      files: { "environments/staging/app.yaml": `name: ${deep}\n` },
      file: "environments/staging/app.yaml",
      line: 1,
      exit: 1,
    },
  ],
  [
    "an alias bomb",
    {
      code: "yaml-limit",
      files: { "environments/staging/app.yaml": bomb + "\n" },
      file: "environments/staging/app.yaml",
      exit: 1,
    },
  ],
  [
    "duplicate keys",
    {
      code: "duplicate-key",
      files: { "environments/staging/app.yaml": "replicas: 2\nname: x\nreplicas: 3\n" },
      file: "environments/staging/app.yaml",
      line: 3,
      column: 1,
      exit: 1,
    },
  ],
  [
    "a __proto__ key",
    {
      code: "invalid-key",
      files: { "environments/staging/app.yaml": "replicas: 2\n__proto__: { polluted: true }\n" },
      file: "environments/staging/app.yaml",
      line: 2,
      column: 1,
      exit: 1,
    },
  ],
  [
    "a constructor key",
    {
      code: "invalid-key",
      files: { "environments/staging/app.yaml": "pool:\n  constructor: 1\n" },
      file: "environments/staging/app.yaml",
      line: 2,
      column: 3,
      exit: 1,
    },
  ],
  [
    "an environment name that is a path",
    {
      code: "invalid-name",
      files: { "strata.yaml": "version: 1\nenvironments:\n  base: {}\n  ../x: { parent: base }\n" },
      file: "strata.yaml",
      line: 4,
      column: 3,
      exit: 1,
    },
  ],
  [
    "an invalid schema (unknown keyword in strict mode)",
    {
      code: "invalid-schema",
      files: { "schemas/app.schema.yaml": "type: object\nproperties:\n  name:\n    type: string\n    maxLenght: 3\n" },
      file: "schemas/app.schema.yaml",
      line: 5,
      column: 5,
      exit: 1,
    },
  ],
  [
    "a schema that breaks the meta-schema",
    {
      code: "invalid-schema",
      files: { "schemas/app.schema.yaml": "type: object\nproperties:\n  name:\n    type: strin\n" },
      file: "schemas/app.schema.yaml",
      line: 4,
      column: 11,
      exit: 1,
    },
  ],
  [
    "an unknown parent",
    {
      code: "unknown-environment",
      files: { "strata.yaml": "version: 1\nenvironments:\n  base: {}\n  staging: { parent: bsae }\n" },
      file: "strata.yaml",
      line: 4,
      column: 22,
      exit: 1,
    },
  ],
  [
    "runtime recipients for an undeclared environment",
    {
      code: "unknown-environment",
      files: {
        "strata.yaml":
          "version: 1\nenvironments:\n  base: {}\n  staging: { parent: base }\n  production: { parent: base }\nruntime:\n  recipients:\n    prod: [age1qyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqszqgpqyqs3290gq]\n",
      },
      file: "strata.yaml",
      line: 8,
      column: 5,
      exit: 1,
    },
  ],
  [
    "an inheritance cycle",
    {
      code: "circular-inheritance",
      files: {
        "strata.yaml": "version: 1\nenvironments:\n  a: { parent: c }\n  b: { parent: a }\n  c: { parent: b }\n",
      },
      file: "strata.yaml",
      exit: 1,
    },
  ],
  [
    "a value for an unknown namespace",
    {
      code: "unknown-namespace",
      files: { "environments/staging/nope.yaml": "x: 1\n" },
      file: "environments/staging/nope.yaml",
      line: 1,
      column: 1,
      exit: 1,
    },
  ],
  [
    "an unknown key",
    {
      code: "unknown-key",
      files: { "environments/staging/app.yaml": "replicas: 2\nreplicsa: 3\n" },
      file: "environments/staging/app.yaml",
      line: 2,
      column: 1,
      exit: 1,
    },
  ],
  [
    "a wrong type",
    {
      code: "invalid-type",
      files: { "environments/staging/app.yaml": "replicas: many\n" },
      file: "environments/staging/app.yaml",
      line: 1,
      column: 11,
      exit: 1,
    },
  ],
  [
    "a constraint violation",
    {
      code: "constraint-violation",
      files: { "environments/staging/app.yaml": "\nreplicas: 50\n" },
      file: "environments/staging/app.yaml",
      line: 2,
      column: 11,
      exit: 1,
    },
  ],
  [
    "a missing required key",
    {
      code: "missing-required",
      files: { "environments/base/app.yaml": "replicas: 2\n" },
      file: "schemas/app.schema.yaml",
      line: 3,
      exit: 1,
    },
  ],
  [
    "a required key removed with !unset",
    {
      code: "missing-required",
      files: { "environments/production/app.yaml": "name: !unset\n" },
      file: "environments/production/app.yaml",
      line: 1,
      column: 1,
      exit: 1,
    },
  ],
  [
    "x-sensitive in a plain file",
    {
      code: "sensitive-in-plaintext",
      files: { "environments/staging/app.yaml": "password: hunter2hunter2\n" },
      file: "environments/staging/app.yaml",
      line: 1,
      column: 11,
      exit: 1,
    },
  ],
  [
    "an array item without its merge field",
    {
      code: "invalid-merge",
      files: {
        "schemas/app.schema.yaml":
          "type: object\nproperties:\n  name: { type: string }\n  routes: { type: array, x-merge: { by: name } }\n",
        "environments/staging/app.yaml": "routes:\n  - { weight: 1 }\n",
      },
      file: "environments/staging/app.yaml",
      line: 2,
      column: 5,
      exit: 1,
    },
  ],
  [
    "a reference cycle",
    {
      code: "circular-reference",
      files: { "environments/staging/app.yaml": "url: ${app.name}\nname: ${app.url}\n" },
      file: "environments/staging/app.yaml",
      exit: 1,
    },
  ],
  [
    "an unknown reference",
    {
      code: "unresolved-reference",
      files: { "environments/staging/app.yaml": "url: http://${app.hots}/\n" },
      file: "environments/staging/app.yaml",
      line: 1,
      column: 6,
      exit: 1,
    },
  ],
  [
    "an unknown --env",
    { code: "unknown-environment", files: {}, file: null, exit: 2, args: ["validate", "--env", "prod"] },
  ],
  ["no strata.yaml", { code: "missing-repository", files: { "strata.yaml": null }, file: null, exit: 2 }],
];

describe("error codes end to end", () => {
  it.each(cases)("%s -> %s", async (_name, c) => {
    const dir = fixtureRepo(c.files);
    const args = c.args ?? ["validate"];
    const text = await strata([...args, "--repo", dir]);
    expect(text.exitCode).toBe(c.exit);
    expect(text.stdout + text.stderr).toContain(c.code);
    expect(text.stderr).not.toMatch(/\n\s+at .+\(.+:\d+:\d+\)/); // no stack trace
    if (c.exit !== 1) return;
    const json = await strata([...args, "--repo", dir, "--format", "json"]);
    expect(json.exitCode).toBe(c.exit);
    const doc = JSON.parse(json.stdout) as {
      schemaVersion: number;
      ok: boolean;
      findings: { code: string; file: string | null; line: number | null; column: number | null; message: string }[];
    };
    expect(doc.schemaVersion).toBe(1);
    expect(doc.ok).toBe(false);
    const f =
      doc.findings.find((x) => x.code === c.code && x.file === c.file) ?? doc.findings.find((x) => x.code === c.code);
    expect(f, JSON.stringify(doc.findings, null, 1)).toBeDefined();
    expect(f!.file).toBe(c.file);
    if (c.line !== undefined) expect(f!.line).toBe(c.line);
    if (c.column !== undefined) expect(f!.column).toBe(c.column);
    if (f!.file && f!.line) expect(f!.message).toContain(`${f!.file}:${f!.line}`);
  });

  it("reports every finding, not the first", async () => {
    const dir = fixtureRepo({ "environments/staging/app.yaml": "replicas: many\nreplicsa: 1\nmode: slow\n" });
    const r = await strata(["validate", "--repo", dir, "--format", "json"]);
    const codes = (JSON.parse(r.stdout) as { findings: { code: string }[] }).findings.map((f) => f.code).sort();
    expect(codes).toEqual(["constraint-violation", "invalid-type", "unknown-key"]);
  });

  it.each([
    ["yaml-1.1-ambiguity", { "environments/staging/app.yaml": "mode: fast\nurl: yes\n" }],
    ["unset-nothing", { "environments/staging/app.yaml": "url: !unset\n" }],
    ["deprecated-key", { "environments/staging/app.yaml": "old: 3\n" }],
  ])("warning %s does not change the exit code", async (code, files) => {
    const r = await strata(["validate", "--repo", fixtureRepo(files), "--format", "json"]);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout) as { ok: boolean; findings: { code: string; severity: string; line: number }[] };
    expect(doc.ok).toBe(true);
    expect(doc.findings).toMatchObject([{ code, severity: "warning", line: expect.any(Number) }]);
  });

  it("a file with a BOM and CRLF line endings is valid", async () => {
    const dir = fixtureRepo({ "environments/staging/app.yaml": "\ufeffreplicas: 2\r\nmode: fast\r\n" });
    const r = await strata(["validate", "--repo", dir]);
    expect(r.exitCode).toBe(0);
  });

  it("a bad flag is exit 2 and an unknown command is exit 2", async () => {
    expect((await strata(["validate", "--nope"])).exitCode).toBe(2);
    expect((await strata(["frobnicate"])).exitCode).toBe(2);
  });
});
