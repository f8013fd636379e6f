import { describe, expect, it } from "vitest";
import { SchemaCompiler } from "../../../src/core/schema/compile.js";
import { MAX_INHERITANCE_DEPTH, parseSettings } from "../../../src/core/settings/settings.js";
import { parseYaml } from "../../../src/core/yaml/parse.js";

const compiler = new SchemaCompiler({ cache: null });
function settings(lines: string[]) {
  const { documents, findings } = parseYaml(
    ["version: 1", "environments:", ...lines].join("\n") + "\n",
    "strata.yaml",
    { keys: "any", allowUnset: false },
  );
  expect(findings).toEqual([]);
  return parseSettings(documents[0] ?? null, compiler);
}

describe("the environment graph", () => {
  it("walks a chain declared deepest first without recursion, and stops at the depth limit", () => {
    const lines: string[] = [];
    for (let i = 3999; i > 0; i--) lines.push(`  e${i}: { parent: e${i - 1} }`);
    lines.push("  e0: {}");
    const parsed = settings(lines);
    expect(parsed.environments.size).toBe(MAX_INHERITANCE_DEPTH);
    expect(parsed.environments.get("e63")!.chain).toHaveLength(64);
    expect(parsed.findings).toHaveLength(1);
    const f = parsed.findings[0]!;
    // e64's `parent:` is on line 2 + (3999 - 64) + 1.
    expect(f).toMatchObject({ code: "constraint-violation", environment: "e64", line: 3938, column: 18 });
    expect(f.environments).toHaveLength(4000 - 64);
    expect(f.environments.slice(0, 3)).toEqual(["e64", "e65", "e66"]);
  });

  it("reports a cycle once, at a parent in it, listing the environments it cuts off, with a hint", () => {
    const parsed = settings([
      "  a: { parent: c }",
      "  b: { parent: a }",
      "  c: { parent: b }",
      "  d: { parent: c }",
      "  ok: {}",
    ]);
    expect(parsed.findings).toHaveLength(1);
    expect(parsed.findings[0]).toMatchObject({ code: "circular-inheritance", environments: ["a", "b", "c", "d"] });
    expect(parsed.findings[0]!.hint).toMatch(/remove the parent: of one of/);
    expect([...parsed.environments.keys()]).toEqual(["ok"]);
  });

  it("reports an unknown parent once and keeps the rest of the graph", () => {
    const parsed = settings([
      "  base: {}",
      "  staging: { parent: bsae }",
      "  canary: { parent: staging }",
      "  production: { parent: base }",
    ]);
    expect(parsed.findings.map((f) => [f.code, f.environment, f.environments])).toEqual([
      ["unknown-environment", "staging", ["canary", "staging"]],
    ]);
    expect(parsed.environments.get("production")!.chain).toEqual(["base", "production"]);
  });
});

describe("strata.yaml settings", () => {
  it("an unknown setting suggests the closest one", () => {
    const parsed = settings(["  staging: { prodution: true }", "distribuion: {}"]);
    expect(parsed.findings.map((f) => [f.code, f.hint])).toEqual(
      expect.arrayContaining([
        ["unknown-key", "did you mean production?"],
        ["unknown-key", "did you mean distribution?"],
      ]),
    );
  });
});
