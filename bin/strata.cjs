#!/usr/bin/env node
// The `strata` command: answer --version, enable the compile cache, then run the built CLI. dist/ is built by
// `npm pack` (prepack) and by `npm run build` in a clone; nothing builds it at install time, so a copy without
// it (an install straight from git) says so plainly instead of failing with a module-not-found stack.
//
// `strata --version` runs before CI steps that pin a version, so it loads nothing but this file. The entry is
// CommonJS: an ES module entry starts Node's ES module loader first (5 to 9% of bare node's start-up), and
// require() of a built-in builds no module wrapper (`import "node:fs"` does). The CLI's own answer
// (dist/cli/main.js, which the single-file bundle runs) is the same text. bin/strata.mjs runs this file.
"use strict";
const { existsSync, readFileSync } = require("node:fs");
const { join } = require("node:path");
const { pathToFileURL } = require("node:url");

const args = process.argv.slice(2);
const entry = join(__dirname, "..", "dist", "cli", "main.js");
if (!existsSync(entry)) {
  process.stderr.write(
    "strata: this copy of strata has not been built (dist/ is missing).\n" +
      "  installing from git is not supported: npm install -g strata-config\n" +
      "  in a clone of the repository: npm ci && npm run build\n",
  );
  process.exit(1);
}
if (args.length === 1 && (args[0] === "--version" || args[0] === "-V" || args[0] === "version")) {
  process.stdout.write(`${JSON.parse(readFileSync(join(__dirname, "..", "package.json"), "utf8")).version}\n`);
} else {
  require("node:module").enableCompileCache?.();
  import(pathToFileURL(entry).href).then(({ main }) => main(args));
}
