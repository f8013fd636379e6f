/**
 * Which test files need the `e2e` tag: those that reach the built CLI (`bin/strata.mjs`, `dist/`, the
 * package's own name, which resolves to `dist/` through its exports), a daemon (etcd, `strata serve`),
 * chromium, eslint or the repository generator, directly or through any helper they import. It reads the
 * TypeScript syntax tree, not names: a helper that calls a helper that spawns the CLI (`startEndpoint` ->
 * `spawnServe` -> `cliPath`) is found however it is called, and a new helper needs no entry in a list.
 *
 * The roots are what actually leaves the process or needs a build: string literals that name the built CLI
 * or `dist/` (in imports, paths, generated scripts), and a few bindings of the support modules and of
 * npm packages that start programs. A binding of a module is "e2e" when its declaration mentions a root or
 * another e2e binding (of its own module or imported); a test file needs the tag when it does.
 */
import { dirname, join, normalize } from "node:path";
import ts from "typescript";

/** Text in a string literal that means the built CLI or a build output. */
const BUILT = [
  /(^|[\s/\\"'`])bin[/\\]strata\.mjs\b/,
  // The project's dist/ (a path, a relative import, a word of a command line), not a package's (ajv/dist/…).
  /(^|[\s"'`(=]|\.\.?\/)dist([/\\]|$)/,
  /(^|[^\w@/-])strata-config(\/client)?(?=$|["'`\s)])/,
  // The project's build and start scripts (npm start builds dist/ and runs the CLI).
  /(^|[\s/\\"'`])scripts[/\\][\w.-]+\.mjs\b/,
  /^scripts$/,
];

/** Bindings that start a program other than the CLI (each in the module that declares it). */
const ROOT_BINDINGS: Record<string, string[]> = {
  "test/support/shared.ts": ["generatorPath"],
  "test/support/etcd.ts": ["etcdBinary"],
};
/** npm packages whose named imports start programs: a browser, the linter. */
const ROOT_PACKAGES: Record<string, string[] | "*"> = {
  "playwright-core": ["chromium", "firefox", "webkit"],
  eslint: ["ESLint", "Linter"],
};

interface ModuleInfo {
  /** Local binding -> the text spans of its top-level declaration(s). */
  declarations: Map<string, ts.Node[]>;
  /** Local binding -> [resolved module path, imported name ("*" for a namespace)]. */
  imports: Map<string, [string, string]>;
  /** The whole file. */
  source: ts.SourceFile;
}

function resolveSpecifier(from: string, specifier: string): string {
  if (!specifier.startsWith(".")) return specifier;
  return normalize(join(dirname(from), specifier)).replace(/\.js$/, ".ts");
}

function analyse(path: string, text: string): ModuleInfo {
  const source = ts.createSourceFile(path, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const declarations = new Map<string, ts.Node[]>();
  const imports = new Map<string, [string, string]>();
  const declare = (name: string, node: ts.Node): void => {
    declarations.set(name, [...(declarations.get(name) ?? []), node]);
  };
  for (const statement of source.statements) {
    if (ts.isImportDeclaration(statement) && ts.isStringLiteral(statement.moduleSpecifier)) {
      const target = resolveSpecifier(path, statement.moduleSpecifier.text);
      const clause = statement.importClause;
      if (clause?.name) imports.set(clause.name.text, [target, "default"]);
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) imports.set(bindings.name.text, [target, "*"]);
      if (bindings && ts.isNamedImports(bindings))
        for (const e of bindings.elements) imports.set(e.name.text, [target, (e.propertyName ?? e.name).text]);
    } else if (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement)) {
      if (statement.name) declare(statement.name.text, statement);
    } else if (ts.isVariableStatement(statement)) {
      for (const d of statement.declarationList.declarations) {
        if (ts.isIdentifier(d.name)) declare(d.name.text, d);
        else for (const name of bindingNames(d.name)) declare(name, d);
      }
    }
  }
  return { declarations, imports, source };
}

function bindingNames(pattern: ts.BindingName): string[] {
  if (ts.isIdentifier(pattern)) return [pattern.text];
  return pattern.elements.flatMap((e) => (ts.isOmittedExpression(e) ? [] : bindingNames(e.name)));
}

/** Calls `visit` on every string-like literal and identifier under `node`. */
function walk(node: ts.Node, visit: (kind: "text" | "name", value: string) => void): void {
  if (ts.isStringLiteralLike(node) || ts.isTemplateHead(node) || ts.isTemplateMiddle(node) || ts.isTemplateTail(node))
    visit("text", node.text);
  else if (ts.isIdentifier(node)) visit("name", node.text);
  ts.forEachChild(node, (child) => walk(child, visit));
}

export interface Verdict {
  /** Test files (relative paths) that reach the built CLI, a daemon or an external program. */
  e2e: Set<string>;
  /** Why each of them does (the first root or binding found). */
  reasons: Map<string, string>;
}

/**
 * `files`: every TypeScript file under test/, relative path -> text (helpers and tests). Returns the test
 * files (`*.test.ts`) that need the e2e tag.
 */
export function filesNeedingE2e(files: ReadonlyMap<string, string>): Verdict {
  const modules = new Map<string, ModuleInfo>();
  for (const [path, text] of files) modules.set(path, analyse(path, text));

  // e2e bindings per module, to a fixed point.
  const e2e = new Map<string, Map<string, string>>();
  for (const path of modules.keys()) e2e.set(path, new Map((ROOT_BINDINGS[path] ?? []).map((b) => [b, "root"])));

  const reasonIn = (path: string, nodes: readonly ts.Node[]): string | null => {
    const info = modules.get(path)!;
    let reason: string | null = null;
    for (const node of nodes) {
      walk(node, (kind, value) => {
        if (reason !== null) return;
        if (kind === "text") {
          if (BUILT.some((re) => re.test(value))) reason = `names ${JSON.stringify(value)}`;
          return;
        }
        if (e2e.get(path)!.has(value) && !nodes.some((n) => declaresName(n, value))) {
          reason = `uses ${value}`;
          return;
        }
        const imported = info.imports.get(value);
        if (!imported) return;
        const [from, name] = imported;
        const pkg = ROOT_PACKAGES[from];
        if (pkg === "*" || pkg?.includes(name)) reason = `uses ${name} from ${from}`;
        else if (e2e.get(from)?.has(name) || (name === "*" && (e2e.get(from)?.size ?? 0) > 0))
          reason = `uses ${name} from ${from}`;
      });
      if (reason !== null) break;
    }
    return reason;
  };

  for (let changed = true; changed;) {
    changed = false;
    for (const [path, info] of modules) {
      const mine = e2e.get(path)!;
      for (const [name, nodes] of info.declarations) {
        if (mine.has(name)) continue;
        const reason = reasonIn(path, nodes);
        if (reason !== null) {
          mine.set(name, reason);
          changed = true;
        }
      }
    }
  }

  const verdict: Verdict = { e2e: new Set(), reasons: new Map() };
  for (const [path, info] of modules) {
    if (!path.endsWith(".test.ts")) continue;
    // Imports of a build output are statements too: check the whole file.
    const reason = reasonIn(path, [info.source]);
    if (reason !== null) {
      verdict.e2e.add(path);
      verdict.reasons.set(path, reason);
    }
  }
  return verdict;
}

function declaresName(node: ts.Node, name: string): boolean {
  if ((ts.isFunctionDeclaration(node) || ts.isClassDeclaration(node)) && node.name?.text === name) return true;
  return ts.isVariableDeclaration(node) && bindingNames(node.name).includes(name);
}
