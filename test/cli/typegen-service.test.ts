// @module-tag e2e
// `strata typegen --service NAME`: the types of what that service's snapshot holds (its namespaces only),
// and its errors: a service strata.yaml does not declare, a declared namespace without a schema.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { projectRoot, strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";

afterAll(cleanupTempdirs);

function repoWith(services: string): string {
  const dir = tempdir("strata-typegen-service-");
  for (const part of ["strata.yaml", "schemas"]) cpSync(join(projectRoot, part), join(dir, part), { recursive: true });
  const settings = readFileSync(join(dir, "strata.yaml"), "utf8").replace("signing:\n", `${services}signing:\n`);
  writeFileSync(join(dir, "strata.yaml"), settings);
  return dir;
}

describe("typegen --service", () => {
  it("types only the service's namespaces, and its header regenerates the same file", async () => {
    const dir = repoWith("services:\n  checkout:\n    namespaces: [database, http]\n");
    const r = await strata(["typegen", "--service", "checkout", "--out", "checkout-config.ts"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain("wrote checkout-config.ts: 2 namespaces");
    const text = readFileSync(join(dir, "checkout-config.ts"), "utf8");
    expect(text).toContain("strata typegen --service checkout --out checkout-config.ts");
    expect(text).toMatch(/^export interface DatabaseConfig \{/m);
    expect(text).toMatch(/^export interface HttpConfig \{/m);
    expect(text).not.toMatch(/CacheConfig|FeaturesConfig|ObservabilityConfig/);
    const check = await strata(["typegen", "--service", "checkout", "--out", "checkout-config.ts", "--check"], {
      cwd: dir,
    });
    expect(check.exitCode, check.stderr).toBe(0);
  });

  it("refuses a service strata.yaml does not declare, naming the closest one (exit 2)", async () => {
    const dir = repoWith("services:\n  checkout:\n    namespaces: [database]\n");
    const r = await strata(["typegen", "--service", "chekout"], { cwd: dir });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('strata.yaml declares no service "chekout"');
    expect(r.stderr).toContain('did you mean "checkout"?');
    expect(r.stdout).toBe("");
  });

  it("reports a declared namespace without a schema, located, and generates nothing (exit 1)", async () => {
    const dir = repoWith("services:\n  checkout:\n    namespaces: [database, payments]\n");
    const r = await strata(["typegen", "--service", "checkout"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/^strata\.yaml:\d+:\d+: error \[unknown-namespace\]/m);
    expect(r.stderr).toContain('services.checkout.namespaces[1]: namespace "payments" has no schema');
    expect(r.stdout).toBe("");
  });
});
