#!/usr/bin/env node
// Keeps in a package's dist/ only the declaration files its public entries reach: tsc writes a .d.ts for
// every compiled module, but a consumer's compiler can only ever open the ones an entry's declarations
// import, re-export or `import("…")`, transitively. The rest would ship internals nobody may rely on.
//   node scripts/prune-declarations.mjs <dist dir> <entry .d.ts, relative to dist> [...]
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import ts from "typescript";

/** The declaration file a specifier resolves to: x.js -> x.d.ts, x.mjs -> x.d.mts, a directory -> index.d.ts. */
function declarationOf(path) {
  const js = /\.(m|c)?js$/.exec(path);
  if (js) return `${path.slice(0, -js[0].length)}.d.${js[1] ?? ""}ts`;
  if (/\.d\.(m|c)?ts$/.test(path)) return path;
  return existsSync(`${path}.d.ts`) ? `${path}.d.ts` : join(path, "index.d.ts");
}

/** The .d.ts files reachable from the entries: relative module specifiers only (packages are not ours). */
export function reachableDeclarations(entries) {
  const seen = new Set();
  const queue = entries.map((e) => resolve(e));
  while (queue.length > 0) {
    const file = queue.pop();
    if (seen.has(file)) continue;
    if (!existsSync(file)) throw new Error(`${file}: a declaration an entry needs is missing`);
    seen.add(file);
    const info = ts.preProcessFile(readFileSync(file, "utf8"), true, true);
    for (const { fileName } of [...info.importedFiles, ...info.referencedFiles]) {
      if (!fileName.startsWith(".")) continue;
      queue.push(declarationOf(resolve(dirname(file), fileName)));
    }
  }
  return seen;
}

function declarationsUnder(dir) {
  const out = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, entry.name);
    if (entry.isDirectory()) out.push(...declarationsUnder(p));
    else if (/\.d\.(m|c)?ts$/.test(entry.name)) out.push(p);
  }
  return out;
}

/** Deletes the unreachable declarations; returns [kept, removed] counts. */
export function pruneDeclarations(dist, entries) {
  const keep = reachableDeclarations(entries.map((e) => join(dist, e)));
  let removed = 0;
  for (const file of declarationsUnder(dist)) {
    if (keep.has(resolve(file))) continue;
    rmSync(file);
    removed++;
  }
  return [keep.size, removed];
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? "").href) {
  const [dist, ...entries] = process.argv.slice(2);
  if (!dist || entries.length === 0) {
    process.stderr.write("usage: prune-declarations.mjs <dist dir> <entry .d.ts> [...]\n");
    process.exit(2);
  }
  const [kept, removed] = pruneDeclarations(dist, entries);
  process.stderr.write(`${relative(process.cwd(), dist) || "."}: kept ${kept} declaration files, removed ${removed}\n`);
}
