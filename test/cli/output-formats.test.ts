// @module-tag e2e
// The output formats keep types across hand-offs (docs/deploy.md): YAML that YAML 1.1 readers (PyYAML,
// kubectl's kustomize) read as the strings strata resolved, and keys that would become one variable name
// reported by validate at the line that sets them.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { fixtureRepo } from "../support/repo-fixture.js";
import { findTool, lacking, needsPyYaml } from "../support/shared.js";

afterAll(cleanupTempdirs);

const PYTHON = "/usr/bin/python3";
const noPyyaml = lacking("YAML 1.1 readers of resolve's output", needsPyYaml);
const kubectl = findTool("kubectl") !== null;

function readWithPyYaml(text: string): unknown {
  return JSON.parse(
    execFileSync(PYTHON, ["-c", "import sys, json, yaml; print(json.dumps(yaml.safe_load(sys.stdin.read())))"], {
      input: text,
      encoding: "utf8",
    }),
  ) as unknown;
}

/** What kubectl's own YAML reader (kustomize, offline) makes of a manifest. */
function readWithKubectl(manifest: string): unknown {
  const dir = tempdir();
  writeFileSync(join(dir, "kustomization.yaml"), "resources: [manifest.yaml]\n");
  writeFileSync(join(dir, "manifest.yaml"), manifest);
  return parseYaml(
    execFileSync("kubectl", ["kustomize", dir], {
      encoding: "utf8",
      env: { ...process.env, KUBECONFIG: "/nonexistent" },
    }),
  );
}

/** Strings a YAML 1.1 reader takes for booleans, numbers, dates or null when they are not quoted. */
const AMBIGUOUS = {
  yes: "yes",
  no: "NO",
  on: "on",
  y: "y",
  thousand: "1_000",
  duration: "1:30",
  date: "2026-01-02",
  octal: "0755",
  empty: "~",
};
const SCHEMA = `type: object
properties:
${Object.keys(AMBIGUOUS)
  .map((k) => `  ${k}: { type: string }`)
  .join("\n")}
`;

describe("YAML output keeps the types YAML 1.1 readers would change", () => {
  const repo = (): string =>
    fixtureRepo({
      "schemas/flags.schema.yaml": SCHEMA,
      "environments/base/flags.yaml": Object.entries(AMBIGUOUS)
        .map(([k, v]) => `${k}: ${JSON.stringify(v)}`)
        .join("\n"),
    });

  it.skipIf(noPyyaml)("resolve --format yaml: PyYAML reads every value as the string strata resolved", async () => {
    const r = await strata(["resolve", "--repo", repo(), "--env", "staging", "--format", "yaml", "--key", "flags"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readWithPyYaml(r.stdout)).toEqual(AMBIGUOUS);
  });

  it.skipIf(noPyyaml)("resolve --format configmap: PyYAML and kubectl read string data", async () => {
    const r = await strata([
      "resolve",
      "--repo",
      repo(),
      "--env",
      "staging",
      "--format",
      "configmap",
      "--name",
      "flags",
      "--key",
      "flags",
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const expected = Object.fromEntries(Object.entries(AMBIGUOUS).map(([k, v]) => [`FLAGS_${k.toUpperCase()}`, v]));
    expect((readWithPyYaml(r.stdout) as { data: unknown }).data).toEqual(expected);
    if (kubectl) expect((readWithKubectl(r.stdout) as { data: unknown }).data).toEqual(expected);
  });
});

describe("keys that become one variable name", () => {
  const repo = (): string =>
    fixtureRepo({
      "schemas/database.schema.yaml": "type: object\n",
      "schemas/database-pool.schema.yaml": "type: object\n",
      "environments/base/database.yaml": "pool:\n  max: 10\n",
      "environments/production/database-pool.yaml": "# a namespace of its own\nmax: 500\n",
    });

  it("validate reports them as a located warning, naming both keys and the variable", async () => {
    const r = await strata(["validate", "--repo", repo(), "--format", "json"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const findings = (JSON.parse(r.stdout) as { findings: Record<string, unknown>[] }).findings.filter(
      (f) => f.code === "variable-name-collision",
    );
    expect(findings).toHaveLength(1);
    expect(findings[0]).toMatchObject({
      severity: "warning",
      file: "environments/production/database-pool.yaml",
      line: 2,
      column: 6,
      environment: "production",
      key: "database-pool.max",
    });
    expect(findings[0]!.message).toContain(
      "database.pool.max and database-pool.max both become the variable DATABASE_POOL_MAX",
    );
  });

  it.each(["env", "dotenv", "configmap"])("resolve --format %s refuses them", async (format) => {
    const r = await strata([
      "resolve",
      "--repo",
      repo(),
      "--env",
      "production",
      "--format",
      format,
      ...(format === "configmap" ? ["--name", "db"] : []),
    ]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("database.pool.max and database-pool.max both become the variable DATABASE_POOL_MAX");
  });

  it("staging, which has only one of them, is fine", async () => {
    const dir = repo();
    mkdirSync(join(dir, "environments/staging"), { recursive: true });
    const r = await strata(["resolve", "--repo", dir, "--env", "staging", "--format", "dotenv"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("DATABASE_POOL_MAX=10\n");
  });
});
