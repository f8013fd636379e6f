import { describe, expect, it } from "vitest";
import { createFinding, mergeFindings } from "../../src/core/findings.js";

describe("mergeFindings", () => {
  const base = {
    code: "constraint-violation",
    message: "f.yaml:2:7: app.mode must be one of",
    file: "f.yaml",
    line: 2,
    column: 7,
    key: "app.mode",
  } as const;
  it("reports a problem of a shared layer once, with every environment it affects", () => {
    const merged = mergeFindings([
      createFinding({ ...base, environment: "staging" }),
      createFinding({ ...base, environment: "production" }),
      createFinding({ ...base, environment: "staging" }),
    ]);
    expect(merged).toHaveLength(1);
    expect(merged[0]).toMatchObject({ environment: "staging", environments: ["production", "staging"] });
  });

  it("keeps different problems apart and a finding without environment as it is", () => {
    const merged = mergeFindings([
      createFinding({ ...base, environment: "a" }),
      createFinding({ ...base, line: 3, environment: "b" }),
      createFinding({ code: "yaml-syntax", message: "x" }),
    ]);
    expect(merged.map((f) => f.environments)).toEqual([["a"], ["b"], []]);
  });
});
