// @module-tag e2e
// Reviews see services: `strata diff` says which services receive each change (the blast radius gains a
// service column in the PR comment), a change to a service's declaration is a change to that service, and
// approval rules match `when: { services: [...] }`.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { approvalChangesFromDiff } from "../../src/core/approvals/from-diff.js";
import { parseApprovalConfig } from "../../src/core/approvals/config.js";
import { matchApprovalRules } from "../../src/core/approvals/match.js";
import type { DiffResult } from "../../src/core/diff/model.js";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, commitAll, gitdir } from "../support/gitdir.js";

const SETTINGS = (marketing: string) => `version: 1
environments:
  staging: {}
  production: { production: true }
services:
  checkout:
    namespaces: [db, http]
  marketing:
    namespaces: [${marketing}]
    environments: [production]
`;
const SCHEMA = "type: object\nproperties: { a: { type: integer } }\n";

let dir: string;
let base: string;
beforeAll(() => {
  dir = gitdir({
    "strata.yaml": SETTINGS("http"),
    "schemas/db.schema.yaml": SCHEMA,
    "schemas/http.schema.yaml": SCHEMA,
    "schemas/cms.schema.yaml": SCHEMA,
    "environments/production/db.yaml": "a: 1\n",
    "environments/production/http.yaml": "a: 1\n",
    "environments/production/cms.yaml": "a: 1\n",
    "environments/staging/db.yaml": "a: 1\n",
  });
  base = commitAll(dir, "base");
  writeFileSync(join(dir, "environments/production/db.yaml"), "a: 2\n");
  writeFileSync(join(dir, "environments/production/http.yaml"), "a: 2\n");
  writeFileSync(join(dir, "environments/staging/db.yaml"), "a: 2\n");
  writeFileSync(join(dir, "strata.yaml"), SETTINGS("http, cms"));
  commitAll(dir, "head");
});
afterAll(cleanupTempdirs);

async function diff(format: string): Promise<string> {
  const r = await strata(["diff", "--base", base, "--head", "HEAD", "--format", format], { cwd: dir });
  expect(r.exitCode, r.stderr).toBe(0);
  return r.stdout;
}

describe("diff with services", () => {
  let result: DiffResult;
  beforeAll(async () => {
    result = JSON.parse(await diff("json")) as DiffResult;
  });

  it("names the services that receive each change, and the services whose declaration changed", () => {
    const production = result.environments.production!;
    expect(production.changes.map((c) => [c.key, c.services])).toEqual([
      ["db.a", ["checkout"]],
      ["http.a", ["checkout", "marketing"]],
    ]);
    expect(production.services).toEqual(["checkout", "marketing"]);
    expect(production.serviceDeclarations).toEqual(["marketing"]);
    // marketing does not run in staging: a change there reaches checkout only.
    expect(result.environments.staging!.services).toEqual(["checkout"]);
    expect(result.environments.staging!.serviceDeclarations).toBeUndefined();
  });

  it("shows them in the text output and as a services column of the PR comment", async () => {
    expect(await diff("text")).toMatch(/^ {2}services: checkout, marketing \(declaration changed\)$/m);
    const markdown = await diff("markdown");
    expect(markdown).toContain("| environment | services | added | removed | changed | sensitive | invalid |");
    expect(markdown).toMatch(
      /\| \*\*production\*\* 🏭 \| <code>checkout<\/code>, <code>marketing<\/code> \(declaration\) \| /,
    );
    expect(markdown).toMatch(/\| staging \| <code>checkout<\/code> \| /);
  });

  it("lets approval rules match the services a change reaches, a changed declaration included", () => {
    const { config, findings } = parseApprovalConfig({
      approvals: {
        rules: [
          { name: "marketing-team", when: { services: ["marketing"] }, from: ["@acme/marketing"] },
          { name: "checkout-staging", when: { services: "check*", environments: ["staging"] } },
          { name: "nobody", when: { services: ["billing"] } },
        ],
      },
    });
    expect(findings).toEqual([]);
    const matched = matchApprovalRules(config, approvalChangesFromDiff(result));
    const byName = Object.fromEntries(matched.map((m) => [m.name, m.changes.map((c) => `${c.environment}:${c.key}`)]));
    expect(byName["marketing-team"]).toEqual(["production:http.a", "production:strata.yaml services.marketing"]);
    expect(byName["checkout-staging"]).toEqual(["staging:db.a"]);
    expect(byName.nobody).toBeUndefined();
  });
});
