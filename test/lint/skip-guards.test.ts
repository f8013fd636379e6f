// A skipped test says why through one helper: every `skipIf`/`runIf` of the suite takes what `lacking()`
// (test/support/shared.ts) returned, so CI=true turns a missing tool into a failure and a local run names
// what is missing; bare `.skip`, `.todo` and `context.skip()` are not allowed at all.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import ts from "typescript";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../support/cli.js";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return name === "fixtures" ? [] : sources(full);
    return name.endsWith(".ts") ? [full] : [];
  });
}

/** Names bound to a `lacking(...)` result (or to an expression that uses one) in a file. */
function guardNames(source: ts.SourceFile, known: ReadonlySet<string>): Set<string> {
  const names = new Set(known);
  const visit = (node: ts.Node): void => {
    if (
      ts.isVariableDeclaration(node) &&
      ts.isIdentifier(node.name) &&
      node.initializer &&
      usesGuard(node.initializer, names)
    )
      names.add(node.name.text);
    ts.forEachChild(node, visit);
  };
  // Twice: a name may be declared from another declared later in the file.
  visit(source);
  visit(source);
  return names;
}

function usesGuard(node: ts.Node, names: ReadonlySet<string>): boolean {
  if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === "lacking") return true;
  if (ts.isIdentifier(node) && names.has(node.text)) return true;
  return ts.forEachChild(node, (child) => usesGuard(child, names) || undefined) ?? false;
}

/** Every skip in a file that does not go through lacking(), as `line: text`. */
export function unguardedSkips(path: string, text: string, imported: ReadonlySet<string>): string[] {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const guards = guardNames(source, imported);
  const out: string[] = [];
  const report = (node: ts.Node): void => {
    const { line } = source.getLineAndCharacterOfPosition(node.getStart(source));
    out.push(`${path}:${line + 1}: ${node.getText(source).split("\n")[0]}`);
  };
  const visit = (node: ts.Node): void => {
    if (ts.isPropertyAccessExpression(node)) {
      const name = node.name.text;
      const parent = node.parent;
      if ((name === "skipIf" || name === "runIf") && ts.isCallExpression(parent) && parent.expression === node) {
        const arg = parent.arguments[0];
        if (!arg || !usesGuard(arg, guards)) report(parent);
      } else if (
        (name === "skip" || name === "todo") &&
        ts.isIdentifier(node.expression) &&
        ["describe", "it", "test", "suite", "context", "ctx"].includes(node.expression.text)
      )
        report(node);
    }
    ts.forEachChild(node, visit);
  };
  visit(source);
  return out;
}

describe("skip guards", () => {
  const files = sources(join(projectRoot, "test")).map((f) => relative(projectRoot, f));
  // Guards the support modules export (etcdMissing …): a name they bind to lacking() is a guard everywhere.
  const exported = new Set<string>();
  for (const f of files.filter((f) => f.startsWith("test/support/"))) {
    const source = ts.createSourceFile(f, readFileSync(join(projectRoot, f), "utf8"), ts.ScriptTarget.Latest, true);
    for (const name of guardNames(source, new Set())) exported.add(name);
  }

  it("every skip in the suite goes through lacking()", () => {
    expect(exported.has("etcdMissing")).toBe(true);
    const offenders = files
      .filter((f) => f.endsWith(".test.ts") && f !== "test/lint/skip-guards.test.ts")
      .flatMap((f) => unguardedSkips(f, readFileSync(join(projectRoot, f), "utf8"), exported));
    expect(offenders).toEqual([]);
  });

  it.each([
    ["a skipIf on a tool check of its own", `const has = which("zsh"); it.skipIf(!has)("x", () => {});`],
    ["a skipIf on a file's existence", `it.skipIf(!existsSync(p))("x", () => {});`],
    ["a bare skip", `it.skip("x", () => {});`],
    ["a todo", `describe.todo("x");`],
    ["a skip from inside a test", `it("x", (ctx) => { ctx.skip(); });`],
  ])("catches %s", (_name, text) => {
    expect(unguardedSkips("t.test.ts", text, new Set())).toHaveLength(1);
  });

  it.each([
    ["lacking() inline", `describe.skipIf(lacking("s", { tool: "gpg" }))("x", () => {});`],
    ["a name bound to lacking()", `const missing = lacking("s", { tool: "gpg" }); it.skipIf(missing)("x", () => {});`],
    [
      "an expression over one",
      `const noEtcd = lacking("s", needsEtcd); it.skipIf(kind === "etcd" && noEtcd)("x", () => {});`,
    ],
    ["a guard a support module exports", `it.skipIf(etcdMissing)("x", () => {});`],
  ])("accepts %s", (_name, text) => {
    expect(unguardedSkips("t.test.ts", text, new Set(["etcdMissing"]))).toEqual([]);
  });
});
