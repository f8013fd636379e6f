// The services section of strata.yaml: schema-checked, with located findings for names, unknown fields,
// namespaces without a schema and environments that are not declared; no section, no change.
import { afterAll, describe, expect, it } from "vitest";
import { loadRepository } from "../../src/app/repository.js";
import type { Finding } from "../../src/core/findings.js";
import { serviceRecipients, servicesOf, servicesReceiving } from "../../src/core/services/services.js";
import { createWorktreeFiles } from "../../src/io/repo/worktree.js";
import { cleanupTempdirs } from "../support/gitdir.js";
import { BASE_REPO, fixtureRepo } from "../support/repo-fixture.js";

afterAll(cleanupTempdirs);

const A = "age1s4zuzuny3lurh72kxt05legh22esvmqm2ugkfa24n7kaetl5xqjqp5dk8l";
const B = "age15jsrarl6gc65llmlssk23kf2dvcj9dalhrh6nz4293md38ja34psc74tel";
const SETTINGS = BASE_REPO["strata.yaml"] as string;

async function load(services: string) {
  const dir = fixtureRepo({
    "strata.yaml": `${SETTINGS}${services}`,
    "schemas/db.schema.yaml": "type: object\nproperties: { host: { type: string } }\n",
  });
  return loadRepository(createWorktreeFiles(dir), { secrets: null });
}
const errors = (fs: Finding[]) =>
  fs.filter((f) => f.severity === "error").map((f) => ({ code: f.code, message: f.message, hint: f.hint }));

describe("services in strata.yaml", () => {
  it("declares each service's namespaces, recipients and environments; none changes nothing", async () => {
    const none = await load("");
    expect(errors(none.findings)).toEqual([]);
    expect(none.services.size).toBe(0);

    const repo = await load(`services:
  checkout:
    namespaces: [app, db]
    recipients: { production: [${A}], base: [${B}] }
  marketing:
    namespaces: [app]
    recipients: [${B}]
    environments: [staging]
`);
    expect(errors(repo.findings)).toEqual([]);
    const production = repo.environments.get("production")!;
    const staging = repo.environments.get("staging")!;
    expect(servicesOf(repo.services, production).map((s) => s.name)).toEqual(["checkout"]);
    expect(servicesOf(repo.services, staging).map((s) => s.name)).toEqual(["checkout", "marketing"]);
    // Its own table (nearest ancestor's entry), then the break-glass keys, distinct.
    expect(serviceRecipients(repo.services.get("checkout")!, production, [A])).toEqual([A]);
    expect(serviceRecipients(repo.services.get("checkout")!, staging, [A])).toEqual([B, A]);
    // A shared namespace reaches both; a service's own namespace only it.
    expect(servicesReceiving(repo.services, staging, ["app"])).toEqual(["checkout", "marketing"]);
    expect(servicesReceiving(repo.services, staging, ["db"])).toEqual(["checkout"]);
    expect(servicesReceiving(repo.services, production, ["app"])).toEqual(["checkout"]);
  });

  it("locates a namespace without a schema, with the closest one as a hint", async () => {
    const repo = await load(`services:\n  checkout:\n    namespaces: [app, dbb]\n`);
    expect(errors(repo.findings)).toEqual([
      {
        code: "unknown-namespace",
        message:
          'strata.yaml:8:23: services.checkout.namespaces[1]: namespace "dbb" has no schema (schemas/dbb.schema.yaml)',
        hint: 'did you mean "db"?',
      },
    ]);
  });

  it("locates an unknown service field with a suggestion, and a missing namespaces list", async () => {
    const repo = await load(`services:\n  checkout:\n    namespace: [app]\n`);
    expect(errors(repo.findings)).toEqual([
      { code: "missing-required", message: 'strata.yaml:8:5: services.checkout must have "namespaces"', hint: null },
      {
        code: "unknown-key",
        message: 'strata.yaml:8:5: unknown setting "services.checkout.namespace"',
        hint: "did you mean namespaces?",
      },
    ]);
  });

  it("holds service and namespace names to the one name rule", async () => {
    const repo = await load(`services:\n  Checkout:\n    namespaces: [app]\n  web:\n    namespaces: [App]\n`);
    expect(errors(repo.findings)).toEqual(
      expect.arrayContaining([
        {
          code: "invalid-name",
          message: 'strata.yaml:7:3: invalid service name "Checkout"',
          hint: expect.stringMatching(/^service names match/),
        },
        {
          code: "invalid-name",
          message: 'strata.yaml:10:18: services.web.namespaces[0]: invalid namespace name "App"',
          hint: expect.stringMatching(/^namespace names match/),
        },
      ]),
    );
  });

  it("locates recipients and environments that name undeclared environments", async () => {
    const repo = await load(
      `services:\n  checkout:\n    namespaces: [app]\n    recipients: { prodution: [${A}] }\n    environments: [stagin]\n`,
    );
    expect(errors(repo.findings)).toEqual([
      {
        code: "unknown-environment",
        message:
          'strata.yaml:9:19: services.checkout.recipients names "prodution", which is not a declared environment',
        hint: 'did you mean "production"?',
      },
      {
        code: "unknown-environment",
        message:
          'strata.yaml:10:20: services.checkout.environments names "stagin", which is not a declared environment',
        hint: 'did you mean "staging"?',
      },
    ]);
  });
});
