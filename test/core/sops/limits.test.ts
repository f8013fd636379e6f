// The SOPS YAML reader enforces the values reader's limits (issue 10, item 6): an alias bomb (9 levels
// of 10 aliases) used to take minutes and gigabytes in the secrets commands.
import { describe, expect, it } from "vitest";
import { SopsLimitError } from "../../../src/core/sops/stores/errors.js";
import { parseYamlBranches } from "../../../src/core/sops/stores/yaml-parse.js";
import { MAX_ALIASES, MAX_DEPTH } from "../../../src/core/yaml/parse.js";
import { aliasBomb } from "../../support/alias-bomb.js";

function limitOf(text: string): SopsLimitError {
  try {
    parseYamlBranches(text);
  } catch (e) {
    if (e instanceof SopsLimitError) return e;
    throw e;
  }
  throw new Error("no limit error");
}

describe("SOPS YAML limits", () => {
  it("an alias bomb stops at the alias limit, located at the alias that crossed it", () => {
    const e = limitOf(aliasBomb());
    expect(e.message).toBe(`more than ${MAX_ALIASES} alias expansions`);
    expect(e.line).toBeGreaterThanOrEqual(2);
    expect(e.column).toBeGreaterThan(1);
  });

  it(`${MAX_ALIASES} expansions are fine`, () => {
    const text = `a: &a x\nl: [${Array.from({ length: MAX_ALIASES }, () => "*a").join(", ")}]\n`;
    expect(() => parseYamlBranches(text)).not.toThrow();
  });

  it(`nesting deeper than ${MAX_DEPTH} levels is a located limit`, () => {
    const deep = `a: ${"[".repeat(MAX_DEPTH + 5)}${"]".repeat(MAX_DEPTH + 5)}\n`;
    const e = limitOf(deep);
    expect(e.message).toBe(`nesting deeper than ${MAX_DEPTH} levels`);
    expect(e.line).toBe(1);
  });
});
