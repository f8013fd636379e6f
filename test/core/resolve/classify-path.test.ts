// Which repository paths strata reads, and the located finding for a misnamed one.
import { describe, expect, it } from "vitest";
import { classifyPath } from "../../../src/core/resolve/layers.js";

describe("classifyPath", () => {
  it.each([
    ["schemas/database.schema.yaml", { kind: "schema", namespace: "database" }],
    ["environments/production/database.yaml", { kind: "values", environment: "production", encrypted: false }],
    ["environments/production/database.sops.yaml", { kind: "values", namespace: "database", encrypted: true }],
  ])("%s is read", (path, expected) => {
    expect(classifyPath(path)).toMatchObject({ ...expected, path });
  });

  it.each(["README.md", "environments/production/notes.txt", "schemas/database.md"])("%s is not read", (path) => {
    expect(classifyPath(path)).toBeNull();
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
    ["environments/production/database.json", "values files are YAML", undefined],
  ])("%s is a located invalid-name finding", (path, message, hint) => {
    const finding = classifyPath(path);
    expect(finding).toMatchObject({ code: "invalid-name", file: path, line: 1, column: 1 });
    expect((finding as { message: string }).message).toContain(`${path}:1:1: ${message}`);
    if (hint) expect((finding as { hint: string }).hint).toContain(hint);
  });
});
