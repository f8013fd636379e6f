// @module-tag e2e
// The foundation's commands end to end on the example repository and on small fixtures.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parse } from "yaml";
import { exampleKeyEnv, projectRoot, strata as run } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { fixtureRepo } from "../support/repo-fixture.js";

afterAll(cleanupTempdirs);

// The example repository has secrets: every command here runs with its example-only key.
const strata: typeof run = (args, options = {}) => run(args, { ...options, env: { ...exampleKeyEnv, ...options.env } });

describe("strata on the example repository at the project root", () => {
  it("validates every environment", async () => {
    const r = await strata(["validate", "--format", "json"], { cwd: projectRoot });
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc).toMatchObject({
      schemaVersion: 1,
      ok: true,
      environments: ["development", "production", "production-eu", "staging"],
    });
    expect(doc.findings.filter((f: { severity: string }) => f.severity === "error")).toEqual([]);
  });

  it("envs --format json has the SPEC shape", async () => {
    const r = await strata(["envs", "--format", "json"]);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.schemaVersion).toBe(1);
    expect(doc.environments).toContainEqual({
      name: "production-eu",
      parent: "production",
      abstract: false,
      production: true,
      approvalRequired: true,
      description: "EU region (eu-west-1), GDPR data residency",
      chain: ["base", "production", "production-eu"],
    });
    expect(doc.environments).toContainEqual(expect.objectContaining({ name: "base", abstract: true, parent: null }));
  });

  it("envs text shows the tree with flags", async () => {
    const r = await strata(["envs"]);
    expect(r.stdout).toMatch(/base \[abstract\]/);
    expect(r.stdout).toMatch(/└─ production-eu \[production\]/);
  });

  it("resolve --format json prints the effective config object and nothing else", async () => {
    const r = await strata(["resolve", "--env", "production-eu", "--format", "json", "--redact"]);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(Object.keys(doc).sort()).toEqual(["cache", "database", "features", "http", "observability"]);
    expect(doc.database.host).toBe("db.prod.eu-west-1.internal.acme.example");
    expect(doc.database.url).toBe(
      "postgres://app@db.prod.eu-west-1.internal.acme.example:5432/checkout?sslmode=verify-full",
    );
    expect(doc.database.replicas).toEqual([
      { name: "replica-a", host: "db-replica-a.prod.eu-west-1.internal.acme.example", weight: 40 },
    ]);
    expect(doc.http.cors_origins).toEqual([
      "https://acme.example",
      "https://www.acme.example",
      "https://checkout.acme.example",
      "https://eu.acme.example",
    ]);
  });

  it("resolve yaml (the default) and --key", async () => {
    const all = await strata(["resolve", "--env", "development"]);
    expect(all.exitCode).toBe(0);
    const doc = parse(all.stdout);
    expect(doc.observability.alerts_channel).toBeUndefined(); // !unset in development
    expect(doc.database.replicas).toEqual([]); // the only replica removed with $unset
    const one = await strata(["resolve", "--env", "staging", "--key", "database.pool.max", "--format", "json"]);
    expect(one.stdout.trim()).toBe("25");
    // A key with no value is an invocation problem, like an unknown --env (exit 2).
    const missing = await strata(["resolve", "--env", "staging", "--key", "database.nope"]);
    expect(missing.exitCode).toBe(2);
    expect(missing.stderr).toMatch(/database\.nope/);
  });

  it("resolve --format env: uppercased names, JSON for arrays, single-quoted shell words", async () => {
    const r = await strata(["resolve", "--env", "production", "--format", "env", "--key", "database"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("DATABASE_POOL_MAX='100'\n");
    expect(r.stdout).toMatch(/^DATABASE_REPLICAS='\[\{"name":"replica-a"/m);
    for (const line of r.stdout.trim().split("\n")) expect(line).toMatch(/^[A-Z0-9_]+='.*'$/);
  });

  it("resolve of an unknown environment is exit 2 with a hint", async () => {
    const r = await strata(["resolve", "--env", "prod"]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(/unknown-environment/);
    expect(r.stderr).toMatch(/production/);
  });

  it("explain shows the value, every layer with file:line, the schema and flags", async () => {
    const r = await strata(["explain", "--env", "production-eu", "database.pool.max"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("database.pool.max = 100");
    expect(r.stdout).toContain("environments/production/database.yaml:4:8");
    expect(r.stdout).toContain("environments/base/database.yaml:6:8");
    expect(r.stdout).toMatch(/schema default\s+schemas\/database\.schema\.yaml:\d+:\d+/);
    expect(r.stdout).toMatch(/restart required/);
    expect(r.stdout).toMatch(/approvers: @acme\/dba/);
    const json = JSON.parse(
      (await strata(["explain", "--env", "production-eu", "database.pool.max", "--format", "json"])).stdout,
    );
    expect(json).toMatchObject({ schemaVersion: 1, environment: "production-eu", key: "database.pool.max" });
    expect(json.keys[0].layers.map((l: { environment: string | null }) => l.environment)).toEqual([
      "production",
      "base",
      null,
    ]);
    expect(json.keys[0].schema.constraints).toMatchObject({ type: "integer", minimum: 1, maximum: 500 });
  });
});

describe("report formats", () => {
  it("--format github prints escaped workflow commands and appends a step summary", async () => {
    const summary = join(tempdir(), "summary.md");
    writeFileSync(summary, "");
    const dir = fixtureRepo({ "environments/staging/app.yaml": 'replicas: 50\nmode: "a,b:c"\n' });
    const r = await strata(["validate", "--repo", dir], {
      env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: summary, GITHUB_WORKSPACE: join(dir, "..") },
    });
    expect(r.exitCode).toBe(1);
    const lines = r.stdout.trim().split("\n");
    expect(lines[0]).toMatch(
      /^::error file=[^,]+\/environments\/staging\/app\.yaml,line=1,col=11,title=constraint-violation::/,
    );
    for (const line of lines) expect(line.split("::").length).toBeGreaterThanOrEqual(3);
    expect(readFileSync(summary, "utf8")).toMatch(/### strata validate/);
  });

  it("escapes %, CR, LF in messages and : , in properties", async () => {
    const { escapeData, escapeProperty } = await import("../../src/cli/render/findings.js");
    expect(escapeData("50%\r\nnext")).toBe("50%25%0D%0Anext");
    expect(escapeProperty("a:b,c")).toBe("a%3Ab%2Cc");
  });

  it("NO_COLOR wins over FORCE_COLOR", async () => {
    const dir = fixtureRepo({ "environments/staging/app.yaml": "replicas: 50\n" });
    const colored = await strata(["validate", "--repo", dir], { env: { FORCE_COLOR: "1", NO_COLOR: undefined } });
    expect(colored.stdout).toContain("\u001b[");
    const plain = await strata(["validate", "--repo", dir], { env: { FORCE_COLOR: "1", NO_COLOR: "1" } });
    expect(plain.stdout).not.toContain("\u001b[");
  });
});

describe("init, --version, --help", () => {
  it("init scaffolds a repository that validates, and refuses to overwrite one", async () => {
    const dir = join(tempdir(), "new-config");
    const r = await strata(["init", dir]);
    expect(r.exitCode).toBe(0);
    const settings = readFileSync(join(dir, "strata.yaml"), "utf8");
    expect(settings).toMatch(/^# yaml-language-server: \$schema=\.strata\/strata\.schema\.json/);
    expect(JSON.parse(readFileSync(join(dir, ".strata/strata.schema.json"), "utf8")).title).toBe("strata.yaml");
    expect(readFileSync(join(dir, ".github/workflows/strata.yml"), "utf8")).toMatch(/strata/);
    expect((await strata(["validate", "--repo", dir])).exitCode).toBe(0);
    const again = await strata(["init", dir]);
    expect(again.exitCode).toBe(2);
    expect(readFileSync(join(dir, "strata.yaml"), "utf8")).toBe(settings);
  });

  it("--version prints the package version; --help lists the commands", async () => {
    const pkg = JSON.parse(readFileSync(join(projectRoot, "package.json"), "utf8"));
    expect((await strata(["--version"])).stdout.trim()).toBe(pkg.version);
    const help = await strata(["--help"]);
    expect(help.exitCode).toBe(0);
    for (const c of ["init", "validate", "envs", "resolve", "explain"]) expect(help.stdout).toContain(c);
  });

  it("works from a subdirectory of the repository", async () => {
    const r = await strata(["validate"], { cwd: join(projectRoot, "environments", "production") });
    expect(r.exitCode).toBe(0);
  });
});
