// The CLI's conventions that need no process: colour, and the code table of docs/reference.md.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { colorLevel } from "../../src/cli/output.js";
import { ERROR_CODES, exitCodeFor, WARNING_CODES } from "../../src/core/findings.js";

describe("colour", () => {
  it.each([
    [{}, true, 1],
    [{}, false, 0],
    [{ COLORTERM: "truecolor" }, true, 3],
    [{ TERM: "dumb" }, true, 0],
    [{ FORCE_COLOR: "0" }, true, 0],
    [{ FORCE_COLOR: "false" }, true, 0],
    [{ FORCE_COLOR: "1" }, false, 1],
    [{ FORCE_COLOR: "1", TERM: "dumb" }, false, 1],
    [{ NO_COLOR: "1", FORCE_COLOR: "1" }, true, 0],
    [{ NO_COLOR: "" }, true, 1],
  ] as const)("%j on a terminal: %s -> level %i", (env, tty, level) => {
    expect(colorLevel(env, tty)).toBe(level);
  });
});

describe("docs/reference.md's code tables", () => {
  const text = readFileSync(new URL("../../docs/reference.md", import.meta.url), "utf8");
  const start = text.indexOf("\n## Error codes and exit codes\n");
  const section = text.slice(start, text.indexOf("\n## ", start + 1));
  const rows = section
    .split("\n")
    .filter((l) => l.startsWith("| `"))
    .map((l) => l.split("|").map((c) => c.trim()));
  const documented = (code: string): string[][] => rows.filter((r) => r[1]!.includes(`\`${code}\``));

  it.each([...ERROR_CODES])("lists the error code %s with its exit code", (code) => {
    const found = documented(code);
    expect(found, code).not.toEqual([]);
    expect(
      found.some((r) => r[2]!.includes(String(exitCodeFor(code)))),
      code,
    ).toBe(true);
  });

  it("lists every warning code, and no code that does not exist", () => {
    const warnings = section.slice(section.indexOf("\nWarnings:"));
    for (const code of WARNING_CODES) expect(warnings, code).toContain(`\`${code}\``);
    const all = new Set<string>([...ERROR_CODES, ...WARNING_CODES]);
    for (const r of rows) for (const m of r[1]!.matchAll(/`([a-z0-9-]+)`/g)) expect(all, m[1]).toContain(m[1]);
  });
});
