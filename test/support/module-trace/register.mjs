// Preloaded with `node --import` by test/cli/startup-modules.test.ts: records every module the process
// loads into the file STRATA_TRACE_MODULES names, one URL or path a line. ES modules are seen by a resolve
// hook (it runs on the loader thread, so it appends to the file itself); CommonJS modules, which can
// require each other without passing the ESM loader, are read from the require cache at exit.
import { appendFileSync } from "node:fs";
import { createRequire, register } from "node:module";

const out = process.env.STRATA_TRACE_MODULES;
if (out) {
  register("./hooks.mjs", import.meta.url);
  const cache = createRequire(import.meta.url).cache;
  process.on("exit", () =>
    appendFileSync(
      out,
      Object.keys(cache)
        .map((k) => `${k}\n`)
        .join(""),
    ),
  );
}
