// The one classifier of repository paths: what the loader reads, what the diff planner, log and the result
// cache treat as configuration, and the located finding for a misnamed file. One table for all of them.
import { describe, expect, it } from "vitest";
import { classifyPath, configPathOf } from "../../src/core/layout.js";

describe("classifyPath", () => {
  it.each([
    ["strata.yaml", { kind: "settings" }],
    ["schemas/database.schema.yaml", { kind: "schema", namespace: "database" }],
    ["schemas/database.schema.json", { kind: "schema", namespace: "database" }],
    [
      "environments/production/database.yaml",
      { kind: "values", environment: "production", namespace: "database", encrypted: false },
    ],
    [
      "environments/production/database.sops.yaml",
      { kind: "values", environment: "production", namespace: "database", encrypted: true },
    ],
  ])("%s is read", (path, expected) => {
    expect(classifyPath(path)).toEqual({ ...expected, path });
    expect(configPathOf(path)).toEqual({ ...expected, path });
  });

  it.each([
    "README.md",
    ".sops.yaml",
    // Only strata.yaml is read (the loader never looked for strata.yml; the planner used to count it).
    "strata.yml",
    "environments/production/notes.txt",
    "environments/production/sub/database.yaml",
    "schemas/database.md",
    "schemas/sub/database.schema.yaml",
    "docs/x.yaml",
  ])("%s is not read", (path) => {
    expect(classifyPath(path)).toBeNull();
    expect(configPathOf(path)).toBeNull();
  });

  it.each([
    ["schemas/Database.schema.yaml", 'invalid namespace name "Database"', "namespace names"],
    [`environments/${"e".repeat(65)}/database.yaml`, "invalid environment name", "at most 64 characters"],
    ["environments/production/data_base.yaml", 'invalid namespace name "data_base"', "namespace names"],
    [
      "environments/production/database.yml",
      "values files end in .yaml",
      "rename it to environments/production/database.yaml",
    ],
    ["environments/production/database.sops.yml", "values files end in .yaml", "database.sops.yaml"],
    // The loader ignored it silently while the planner counted it as a schema: now both call it misnamed.
    ["schemas/database.schema.yml", "schema files end in .yaml or .json", "rename it to schemas/database.schema.yaml"],
    ["environments/production/database.json", "values files are YAML", undefined],
  ])("%s is a located invalid-name finding, and not configuration", (path, message, hint) => {
    const finding = classifyPath(path);
    expect(finding).toMatchObject({ code: "invalid-name", file: path, line: 1, column: 1 });
    expect((finding as { message: string }).message).toContain(`${path}:1:1: ${message}`);
    if (hint) expect((finding as { hint: string }).hint).toContain(hint);
    expect(configPathOf(path)).toBeNull();
  });
});
