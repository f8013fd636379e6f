#!/usr/bin/env node
// Tiny shim: answer --version, enable the compile cache, then run the built CLI. dist/ is built by `npm pack`
// (prepack) and by `npm run build` in a clone; nothing builds it at install time, so a copy without it (an
// install straight from git) says so plainly instead of failing with a module-not-found stack.
//
// `strata --version` runs before CI steps that pin a version, so it loads nothing but this file: each module
// more, even `import "node:fs"` (an ES module wrapper of the built-in), costs several percent of bare node's
// start-up. Built-ins come from process.getBuiltinModule where Node has it (22.3+). The CLI's own answer
// (dist/cli/main.js, which the single-file bundle runs) is the same text.
const builtin = async (name) => process.getBuiltinModule?.(name) ?? (await import(name));
const args = process.argv.slice(2);
const { existsSync, readFileSync } = await builtin("node:fs");
const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    "strata: this copy of strata has not been built (dist/ is missing).\n" +
      "  installing from git is not supported: npm install -g strata-config\n" +
      "  in a clone of the repository: npm ci && npm run build\n",
  );
  process.exit(1);
}
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V" || args[0] === "version")) {
  process.stdout.write(`${JSON.parse(readFileSync(new URL("../package.json", import.meta.url), "utf8")).version}\n`);
} else {
  (await builtin("node:module")).enableCompileCache?.();
  const { main } = await import(entry.href);
  await main(args);
}
