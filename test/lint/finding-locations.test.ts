// A location is written once: `findingAt` (findings) and `errorAt` (StrataErrors) in src/core/findings.ts put
// the `file:line:column: ` prefix on a message and the location into its fields. No other code writes that
// prefix by hand, where the message and the fields could disagree. (Naming another place in the middle of a
// message, "first on line 3", is fine; rendering a finding's fields for display is the renderers' job.)
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../support/cli.js";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return sources(full);
    return /\.tsx?$/.test(name) ? [full] : [];
  });
}

/** `${a}:${b}:${c}: …` or `${a}:1:1: …` at the start of a template: a location prefix. */
const PREFIX = /^\$\{\}:(?:\$\{\}|\d+):(?:\$\{\}|\d+): /;

export function handWrittenLocations(path: string, text: string): string[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TSX);
  const out: string[] = [];
  const visit = (node: ts.Node): void => {
    if (ts.isTemplateExpression(node)) {
      const shape = node.head.text + node.templateSpans.map((s) => `\${}${s.literal.text}`).join("");
      if (PREFIX.test(shape)) {
        const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
        out.push(`${path}:${line + 1}: ${node.getText(source).slice(0, 80)}`);
      }
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

describe("one home for a message's location", () => {
  it("nothing in src/ but findingAt and errorAt writes file:line:column: into a message", () => {
    const offenders = [...sources(join(projectRoot, "src")), ...sources(join(projectRoot, "ui"))]
      .map((f) => relative(projectRoot, f))
      .filter((f) => f !== "src/core/findings.ts")
      .flatMap((f) => handWrittenLocations(f, readFileSync(join(projectRoot, f), "utf8")));
    expect(offenders).toEqual([]);
  });

  it.each([
    ["a finding's message", "createFinding({ code, message: `${file}:${pos.line}:${pos.column}: bad`, file });"],
    ["line 1, column 1", "createFinding({ code, message: `${path}:1:1: not a SOPS file` });"],
    ["an error's message", "throw new StrataError(code, `${file}:${e.line}:${e.column}: ${e.message}`);"],
  ])("catches %s", (_name, text) => {
    expect(handWrittenLocations("x.ts", text)).toHaveLength(1);
  });

  it.each([
    ["another place named in a message", "findingAt(code, at, `set in both ${a.file}:${a.line} and ${b.file}`);"],
    ["a location rendered on its own", "const where = `${o.file}:${o.line}:${o.column}`;"],
  ])("leaves alone %s", (_name, text) => {
    expect(handWrittenLocations("x.ts", text)).toEqual([]);
  });
});
