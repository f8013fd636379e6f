import { describe, expect, it } from "vitest";
import { readApprovalPolicy } from "../../../src/app/approvals/read-policy.js";
import { parseApprovalConfig } from "../../../src/core/approvals/config.js";

// strata.yaml is read one way: the schema-checked settings reader, whose findings approvals keep.
const parseApprovalConfigYaml = readApprovalPolicy;

const SPEC_EXAMPLE = `version: 1
environments:
  production: { production: true }
approvals:
  rules:
    - name: production
      when: { environments: ["production*"] }
      require: 2
      from: ["@acme/sre"]
    - name: secrets
      when: { sensitive: true }
      require: 1
      from: ["@acme/security"]
    - name: database-owners
      when: { keys: ["database.**"] }
      require: 1
      from: ["@acme/dba", "Alice"]
  emergency: { label: config-emergency, require: 1 }
`;

describe("readApprovalPolicy", () => {
  it("reads the documented example", async () => {
    const { config, findings } = await parseApprovalConfigYaml(SPEC_EXAMPLE);
    expect(findings).toEqual([]);
    expect(config.dismissStale).toBe(true);
    expect(config.emergency).toEqual({ label: "config-emergency", require: 1 });
    expect(config.rules.map((r) => r.name)).toEqual(["production", "secrets", "database-owners"]);
    expect(config.rules[0]).toEqual({
      name: "production",
      when: { environments: ["production*"], keys: null, sensitive: null },
      require: 2,
      from: ["@acme/sre"],
    });
    // Logins are case-insensitive on GitHub.
    expect(config.rules[2]?.from).toEqual(["@acme/dba", "alice"]);
  });

  it("has no rules without an approvals section", async () => {
    const { config, findings } = await parseApprovalConfigYaml("version: 1\nenvironments: {}\n");
    expect(findings).toEqual([]);
    expect(config).toEqual({ rules: [], emergency: null, dismissStale: true });
  });

  it("honours dismiss_stale: false", async () => {
    expect((await parseApprovalConfigYaml("approvals:\n  dismiss_stale: false\n")).config.dismissStale).toBe(false);
  });

  it("reports a malformed approvals section as the one reader's located findings", async () => {
    const text = `version: 1
environments: {}
approvals:
  rules:
    - name: a
      when: { environments: production }
      require: -1
    - when: { colour: blue }
      from: ["@acme/sre"]
  emergency: { require: 1 }
  dismis_stale: true
`;
    const { config, findings } = await parseApprovalConfigYaml(text);
    expect(findings.map((f) => [f.code, f.key, f.line, f.column]).sort()).toEqual([
      ["constraint-violation", "approvals.rules.0.require", 7, 16],
      ["missing-required", "approvals.emergency", 10, 14],
      ["missing-required", "approvals.rules.1", 8, 7],
      ["unknown-key", "approvals", 11, 3],
      ["unknown-key", "approvals.rules.1.when", 8, 15],
    ]);
    expect(findings.every((f) => f.file === "strata.yaml" && f.severity === "error")).toBe(true);
    // Located as file:line:column, with the settings reader's suggestion.
    expect(findings.find((f) => f.code === "unknown-key" && f.key === "approvals")).toMatchObject({
      message: 'strata.yaml:11:3: unknown setting "approvals.dismis_stale"',
      hint: "did you mean dismiss_stale?",
    });
    // Rules whose shape is wrong cannot approve anything.
    expect(config.rules).toEqual([]);
  });

  it("reports the rules' own problems, located, once the shape is right", async () => {
    const text = `approvals:
  rules:
    - name: a
      when: { environments: production }
    - name: b
      from: ["not a login"]
    - name: a
`;
    const { config, findings } = await parseApprovalConfigYaml(text);
    expect(findings.map((f) => [f.code, f.message.split(":")[0], f.line, f.column])).toEqual([
      ["invalid-config", "approvals.rules[1].from[0]", 6, 14],
      ["invalid-config", "approvals.rules[2].name", 7, 13],
    ]);
    // A single string glob is accepted as a one-item list.
    expect(config.rules[0]?.when.environments).toEqual(["production"]);
  });

  it("problems elsewhere in strata.yaml do not make the rules unreadable", async () => {
    const { config, findings } = await parseApprovalConfigYaml(
      "version: 1\nenvironments: { a: { parent: nope } }\nsigning: 3\napprovals: { rules: [{ name: r }] }\n",
    );
    expect(findings).toEqual([]);
    expect(config.rules.map((r) => r.name)).toEqual(["r"]);
  });

  it("reports YAML syntax errors", async () => {
    const { findings } = await parseApprovalConfigYaml("approvals: [\n");
    // At the [ that is never closed, not where the parser gave up.
    expect(findings).toMatchObject([{ code: "yaml-syntax", line: 1, column: 12 }]);
  });

  it("accepts already parsed documents", () => {
    const { config } = parseApprovalConfig({ approvals: { rules: [{ name: "any", require: 1 }] } });
    expect(config.rules[0]).toEqual({
      name: "any",
      when: { environments: null, keys: null, sensitive: null },
      require: 1,
      from: [],
    });
  });
});

describe("environment flags", () => {
  it("inherits production and defaults approval_required to it", async () => {
    const { environments } = await parseApprovalConfigYaml(`environments:
  base: { abstract: true }
  staging: { parent: base }
  production: { parent: base, production: true }
  production-eu: { parent: production }
  production-test: { parent: production, production: false }
  sandbox: { parent: staging, approval_required: true }
  loop-a: { parent: loop-b }
  loop-b: { parent: loop-a }
`);
    expect(environments).toEqual({
      base: { production: false, approvalRequired: false },
      staging: { production: false, approvalRequired: false },
      production: { production: true, approvalRequired: true },
      "production-eu": { production: true, approvalRequired: true },
      "production-test": { production: false, approvalRequired: false },
      sandbox: { production: false, approvalRequired: true },
      "loop-a": { production: false, approvalRequired: false },
      "loop-b": { production: false, approvalRequired: false },
    });
  });
});
