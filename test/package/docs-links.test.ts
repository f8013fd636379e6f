// docs/ is not in the npm package: every place the code sends a reader to a page of the manual (help text,
// hints, messages) links to it with docsUrl(), at the tag of the running version, and every page and
// anchor it names exists.
import ts from "typescript";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { DOCS_PAGES, docsUrl } from "../../src/core/docs.js";
import { VERSION } from "../../src/core/version.js";
import { projectRoot } from "../support/cli.js";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    return statSync(full).isDirectory() ? sources(full) : name.endsWith(".ts") ? [full] : [];
  });
}

/** GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens. */
function anchors(page: string): Set<string> {
  const text = readFileSync(join(projectRoot, "docs", `${page}.md`), "utf8");
  return new Set(
    [...text.matchAll(/^#+ (.+)$/gm)].map((m) =>
      m[1]!
        .toLowerCase()
        .replace(/[^\p{L}\p{N} _-]/gu, "")
        .replace(/ /g, "-"),
    ),
  );
}

const files = sources(join(projectRoot, "src")).map((f) => {
  const text = readFileSync(f, "utf8");
  return { name: relative(projectRoot, f), source: ts.createSourceFile(f, text, ts.ScriptTarget.Latest, true) };
});

function walk(node: ts.Node, visit: (n: ts.Node) => void): void {
  visit(node);
  ts.forEachChild(node, (child) => walk(child, visit));
}

describe("links to the manual", () => {
  it("no string in src/ names a docs/ page as a path, or the repository's docs on a branch", () => {
    const bare: string[] = [];
    for (const { name, source } of files) {
      walk(source, (n) => {
        if (!(ts.isStringLiteralLike(n) || ts.isTemplateHead(n) || ts.isTemplateMiddle(n) || ts.isTemplateTail(n)))
          return;
        const line = source.getLineAndCharacterOfPosition(n.getStart()).line + 1;
        if (/\bdocs\/[\w-]+\.md/.test(n.text)) bare.push(`${name}:${line}: ${n.text}`);
        if (/strata-config\/strata\/(blob|tree)\//.test(n.text)) bare.push(`${name}:${line}: ${n.text}`);
      });
    }
    expect(bare).toEqual([]);
  });

  it("every docsUrl() call names a page and an anchor that exist", () => {
    const calls: string[] = [];
    const missing: string[] = [];
    for (const { name, source } of files) {
      walk(source, (n) => {
        if (!ts.isCallExpression(n) || !ts.isIdentifier(n.expression) || n.expression.text !== "docsUrl") return;
        const [page, anchor] = n.arguments.map((a) => (ts.isStringLiteralLike(a) ? a.text : null));
        calls.push(`${name}: ${page}`);
        if (!page || !(DOCS_PAGES as readonly string[]).includes(page)) missing.push(`${name}: page ${page}`);
        else if (n.arguments.length > 1 && (anchor === null || !anchors(page).has(anchor!)))
          missing.push(`${name}: ${page}#${anchor}`);
      });
    }
    expect(calls.length).toBeGreaterThan(10);
    expect(missing).toEqual([]);
  });

  it("names every page of docs/ and only those, at the tag of this version", () => {
    const pages = readdirSync(join(projectRoot, "docs"))
      .filter((f) => f.endsWith(".md"))
      .map((f) => f.slice(0, -3))
      .sort();
    expect([...DOCS_PAGES].sort()).toEqual(pages);
    expect(docsUrl("github", "tokens")).toBe(
      `https://github.com/strata-config/strata/blob/v${VERSION}/docs/github.md#tokens`,
    );
  });
});
