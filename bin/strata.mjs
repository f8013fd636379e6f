#!/usr/bin/env node
// Tiny shim: enable the compile cache, then run the built CLI. dist/ is built by `npm pack` (prepack) and
// by `npm run build` in a clone; nothing builds it at install time, so a copy without it (an install
// straight from git) says so plainly instead of failing with a module-not-found stack.
import { existsSync } from "node:fs";
import module from "node:module";

const entry = new URL("../dist/cli/main.js", import.meta.url);
if (!existsSync(entry)) {
  process.stderr.write(
    "strata: this copy of strata has not been built (dist/ is missing).\n" +
      "  installing from git is not supported: npm install -g strata-config\n" +
      "  in a clone of the repository: npm ci && npm run build\n",
  );
  process.exit(1);
}
module.enableCompileCache?.();
const { main } = await import(entry.href);
await main(process.argv.slice(2));
