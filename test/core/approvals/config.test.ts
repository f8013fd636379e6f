import { describe, expect, it } from "vitest";
import { parseApprovalConfig, parseApprovalConfigYaml } from "../../../src/core/approvals/config.js";

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

describe("parseApprovalConfigYaml", () => {
  it("reads SPEC §2's example", () => {
    const { config, findings } = parseApprovalConfigYaml(SPEC_EXAMPLE);
    expect(findings).toEqual([]);
    expect(config.dismissStale).toBe(true);
    expect(config.emergency).toEqual({ label: "config-emergency", require: 1 });
    expect(config.rules.map((r) => r.name)).toEqual(["production", "secrets", "database-owners"]);
    expect(config.rules[0]).toEqual({ name: "production", when: { environments: ["production*"], keys: null, sensitive: null }, require: 2, from: ["@acme/sre"] });
    // Logins are case-insensitive on GitHub.
    expect(config.rules[2]?.from).toEqual(["@acme/dba", "alice"]);
  });

  it("has no rules without an approvals section", () => {
    const { config, findings } = parseApprovalConfigYaml("version: 1\nenvironments: {}\n");
    expect(findings).toEqual([]);
    expect(config).toEqual({ rules: [], emergency: null, dismissStale: true });
  });

  it("honours dismiss_stale: false", () => {
    expect(parseApprovalConfigYaml("approvals:\n  dismiss_stale: false\n").config.dismissStale).toBe(false);
  });

  it("reports every problem, located", () => {
    const text = `approvals:
  rules:
    - name: a
      when: { environments: production }
      require: -1
    - when: { colour: blue }
      from: ["not a login"]
    - name: a
  emergency: { require: 1 }
  dismis_stale: true
`;
    const { config, findings } = parseApprovalConfigYaml(text);
    expect(findings.map((f) => [f.code, f.message.split(":")[0], f.line])).toEqual([
      ["invalid-config", "approvals.dismis_stale", 10],
      ["invalid-config", "approvals.rules[0].require", 5],
      ["invalid-config", "approvals.rules[1].name", 6],
      ["invalid-config", "approvals.rules[1].when.colour", 6],
      ["invalid-config", "approvals.rules[1].from[0]", 7],
      ["invalid-config", "approvals.emergency.label", 9],
    ]);
    expect(findings.every((f) => f.file === "strata.yaml")).toBe(true);
    // A single string glob is accepted as a one-item list; the one valid rule survives.
    expect(config.rules.map((r) => r.name)).toEqual(["a"]);
  });

  it("reports YAML syntax errors", () => {
    const { findings } = parseApprovalConfigYaml("approvals: [\n");
    expect(findings[0]?.code).toBe("yaml-syntax");
  });

  it("accepts already parsed documents", () => {
    const { config } = parseApprovalConfig({ approvals: { rules: [{ name: "any", require: 1 }] } });
    expect(config.rules[0]).toEqual({ name: "any", when: { environments: null, keys: null, sensitive: null }, require: 1, from: [] });
  });
});

describe("environment flags", () => {
  it("inherits production and defaults approval_required to it", () => {
    const { environments } = parseApprovalConfigYaml(`environments:
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
