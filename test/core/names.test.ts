// The name rule of environments and namespaces, one table through every place that applies it: the
// repository layout, strata.yaml (its shipped schema and the reader), the snapshot format and the stores.
import { describe, expect, it } from "vitest";
import { classifyPath } from "../../src/core/layout.js";
import { isValidName, joinKey, NAME_RULE, namespaceOf, splitKey } from "../../src/core/names.js";
import { SchemaCompiler } from "../../src/core/schema/compile.js";
import { parseSettings } from "../../src/core/settings/settings.js";
import { ENVIRONMENT_NAME, validateSnapshotShape } from "../../src/core/snapshot/index.js";
import { parseYaml } from "../../src/core/yaml/parse.js";

const compiler = new SchemaCompiler({ cache: null });

function settingsFindings(name: string) {
  const text = `version: 1\nenvironments:\n  ${JSON.stringify(name)}: {}\n  other: { parent: ${JSON.stringify(name)} }\n`;
  const { documents } = parseYaml(text, "strata.yaml", { keys: "any", allowUnset: false });
  return parseSettings(documents[0] ?? null, compiler).findings;
}

describe("the name rule", () => {
  it.each<[string, boolean]>([
    ["a", true],
    ["0", true],
    ["production-eu", true],
    ["a-", true],
    ["e".repeat(64), true],
    ["e".repeat(65), false],
    ["", false],
    ["-a", false],
    ["Production", false],
    ["data_base", false],
    ["a.b", false],
    ["a b", false],
    ["é", false],
  ])("%j valid: %s", (name, valid) => {
    expect(isValidName(name)).toBe(valid);
    expect(ENVIRONMENT_NAME.test(name)).toBe(valid);
    // The layout: environment and namespace names in paths.
    const asEnv = classifyPath(`environments/${name}/db.yaml`);
    const asNs = classifyPath(`schemas/${name}.schema.yaml`);
    if (name !== "" && !name.includes("/")) {
      expect(asEnv !== null && !("code" in asEnv)).toBe(valid);
      expect(asNs !== null && !("code" in asNs)).toBe(valid);
      if (!valid) expect((asEnv as { hint: string }).hint).toBe(`environment ${NAME_RULE}`);
    }
    // strata.yaml: the declaration and a parent naming it.
    const names = settingsFindings(name).filter((f) => f.code === "invalid-name");
    expect(names.length > 0).toBe(!valid);
    for (const f of names) expect(f.hint).toBe(`environment ${NAME_RULE}`);
    // The snapshot format.
    const problems = validateSnapshotShape({ kind: "strata.snapshot", apiVersion: 1, environment: name });
    expect(problems.some((p) => p.startsWith("environment "))).toBe(!valid);
  });

  it("is stated once, in words that match the expression", () => {
    expect(NAME_RULE).toBe("names match ^[a-z0-9][a-z0-9-]*$, at most 64 characters");
  });
});

describe("key paths", () => {
  it.each<[string, (string | number)[]]>([
    ["database", ["database"]],
    ["database.pool.max", ["database", "pool", "max"]],
    ["http.routes[2].path", ["http", "routes", 2, "path"]],
    ["a.b[0][1]", ["a", "b", 0, 1]],
    ["a.0", ["a", "0"]],
    ["my-ns.snake_case", ["my-ns", "snake_case"]],
  ])("%s", (key, segments) => {
    expect(splitKey(key)).toEqual(segments);
    expect(joinKey(segments)).toBe(key);
    expect(namespaceOf(key)).toBe(segments[0]);
  });
});
