// The rollouts section has two readers: core/rollout/policy.ts (the typed model, with located findings) and
// the section of strata.yaml's JSON Schema that editors use. They must agree on what is well-formed.
import { Ajv2020 } from "ajv/dist/2020.js";
import { describe, expect, it } from "vitest";
import { parseRolloutSettings } from "../../../src/core/rollout/index.js";
import { SchemaCompiler } from "../../../src/core/schema/compile.js";
import { parseSettings } from "../../../src/core/settings/settings.js";
import { strataYamlSchema } from "../../../src/core/settings/strata-yaml-schema.js";
import { toPlain } from "../../../src/core/yaml/nodes.js";
import { parseYaml } from "../../../src/core/yaml/parse.js";

const HEADER = ["version: 1", "environments:", "  staging: {}", "  production: {}", "rollouts:", "  environments:"];

function doc(lines: string[]) {
  const { documents, findings } = parseYaml([...HEADER, ...lines].join("\n") + "\n", "strata.yaml", {
    keys: "any",
    allowUnset: false,
  });
  expect(findings).toEqual([]);
  return documents[0]!;
}

const ajv = new Ajv2020({ allErrors: true, strict: false });
const validateSchema = ajv.compile(strataYamlSchema as unknown as object);

// Well-formed for both.
const good: string[][] = [
  ["    staging: all-at-once"],
  ["    staging: { all-at-once: true }"],
  ["    production: { canary: { percent: 5, bake: 15m } }"],
  ["    production: { canary: { percent: 0.5%, bake: 1h30m }, confidence: 99.9% }"],
  ["    production: { linear: { step: 20%, every: 5m } }"],
  ["    production: { exponential: { start: 1%, factor: 2, every: 5m } }"],
  [
    "    production:",
    "      canary: { percent: 5, bake: 15m }",
    "      gates:",
    "        - { metric: error-rate, max_increase: 0.5%, min_samples: 2000 }",
    "        - { metric: latency, max_increase: 25ms }",
    "        - { name: five-xx, metric: prometheus, bad: 'sum(a{v=\"{{version}}\"})', total: 'sum(b{v=\"{{version}}\"})', max_increase: 1% }",
    "      freeze:",
    '        - { from: "2025-12-19T17:00:00Z", until: "2026-01-05T08:00:00Z", reason: year-end }',
    '        - { days: [fri], from: "15:00", until: "24:00", timezone: Europe/Berlin }',
  ],
];
// Malformed for both (the structure is wrong).
const bad: string[][] = [
  ["    staging: gradual"],
  ["    staging: { all-at-once: false }"],
  ["    production: {}"],
  ["    production: { canary: { percent: 5, bake: 1m }, linear: { step: 10%, every: 1m } }"],
  ["    production: { canary: { percent: 5 } }"],
  ["    production: { canary: { percent: 5, bake: 15 } }"],
  ["    production: { canary: { percent: 5, bake: 5m, extra: 1 } }"],
  ["    production: { canary: { percent: five, bake: 5m } }"],
  ["    production: { exponential: { start: 1%, factor: 1, every: 5m } }"],
  ["    production: { canary: { percent: 5, bake: 5m }, gates: [{ metric: error-rate }] }"],
  ["    production: { canary: { percent: 5, bake: 5m }, gates: [{ metric: errors, max_increase: 1% }] }"],
  ["    production: { canary: { percent: 5, bake: 5m }, gates: [{ metric: prometheus, max_increase: 1% }] }"],
  ["    production: { canary: { percent: 5, bake: 5m }, gates: [{ metric: error-rate, max_increase: 1%, bad: 'x' }] }"],
  [
    "    production: { canary: { percent: 5, bake: 5m }, gates: [{ metric: error-rate, max_increase: 1%, min_samples: 0 }] }",
  ],
  [
    '    production: { canary: { percent: 5, bake: 5m }, freeze: [{ from: "2026-01-01" , until: "2026-01-02T00:00:00Z" }] }',
  ],
  ['    production: { canary: { percent: 5, bake: 5m }, freeze: [{ days: [friday], from: "15:00", until: "24:00" }] }'],
  ['    production: { canary: { percent: 5, bake: 5m }, freeze: [{ days: [fri], from: "15:00" }] }'],
  ['    production: { canary: { percent: 5, bake: 5m }, freeze: [{ days: [], from: "15:00", until: "16:00" }] }'],
  ["    production: { canary: { percent: 5, bake: 5m }, rollback: auto }"],
];

describe("the rollouts section: parser and schema agree", () => {
  it.each(good.map((l) => [l.join(" / "), l] as const))("accepted by both: %s", (_, lines) => {
    const root = doc(lines);
    expect(parseRolloutSettings(root).findings).toEqual([]);
    expect(validateSchema(toPlain(root)), JSON.stringify(validateSchema.errors)).toBe(true);
  });
  it.each(bad.map((l) => [l.join(" / "), l] as const))("refused by both: %s", (_, lines) => {
    const root = doc(lines);
    expect(parseRolloutSettings(root).findings.length).toBeGreaterThan(0);
    expect(validateSchema(toPlain(root))).toBe(false);
  });
});

describe("strata.yaml with rollouts", () => {
  const compiler = new SchemaCompiler({ cache: null });
  it("reports the section's problems once each, located, through parseSettings; and hands over the model", () => {
    const parsed = parseSettings(
      doc([
        "    production:",
        "      canary: { percent: 5, bake: 15 }",
        "      gates: [{ metric: error-rate, max_increase: 0.5 }]",
        "    staging: { canary: { percent: 5, bake: 15m } }",
      ]),
      compiler,
    );
    expect(parsed.findings.map((f) => [f.code, f.line, f.column])).toEqual([
      ["invalid-type", 8, 35],
      ["invalid-type", 9, 51],
    ]);
    expect([...parsed.rollouts!.policies.keys()]).toEqual(["staging"]);
  });
  it("the shipped example repository's strata.yaml has no rollouts problems", () => {
    const parsed = parseSettings(doc([]), compiler);
    expect(parsed.findings).toEqual([]);
  });
});
