#!/usr/bin/env node
// Builds the dashboard (ui/) into dist/ui/, which `strata serve` serves at /ui/ (docs/dashboard.md):
// type-checks ui/ with its own tsconfig, bundles ui/src/main.tsx with esbuild (preact, minified, one ES
// module), copies index.html and app.css, and prints the gzipped size of what a browser downloads.
// `--no-typecheck` skips tsc (the tests rebuild the bundle this way).
import { spawnSync } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gzipSync } from "node:zlib";
import { build } from "esbuild";

const root = fileURLToPath(new URL("..", import.meta.url));
const out = join(root, "dist", "ui");
const quiet = process.argv.includes("--quiet");

if (!process.argv.includes("--no-typecheck")) {
  const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", join(root, "ui", "tsconfig.json")], { stdio: "inherit" });
  if (r.status !== 0) {
    process.exitCode = r.status ?? 1;
    throw new Error("the dashboard (ui/) does not type-check");
  }
}

// Built beside dist/ui and swapped in, so a server (or a test) reading dist/ui never sees half a build.
const next = join(root, "dist", `ui.tmp-${process.pid}`);
rmSync(next, { recursive: true, force: true });
mkdirSync(next, { recursive: true });
await build({
  entryPoints: [join(root, "ui", "src", "main.tsx")],
  outfile: join(next, "app.js"),
  bundle: true,
  format: "esm",
  minify: true,
  target: ["es2022"],
  jsx: "automatic",
  jsxImportSource: "preact",
  legalComments: "none",
  logLevel: "warning",
});
copyFileSync(join(root, "ui", "index.html"), join(next, "index.html"));
copyFileSync(join(root, "ui", "app.css"), join(next, "app.css"));
copyFileSync(join(root, "ui", "favicon.svg"), join(next, "favicon.svg"));
const old = join(root, "dist", `ui.old-${process.pid}`);
// Two builds at once (two browser test files starting together) may swap in between these two renames:
// then this one moves the other's build aside and tries again (both builds are of the same sources).
for (let attempt = 1; ; attempt++) {
  try {
    rmSync(old, { recursive: true, force: true });
    if (existsSync(out)) renameSync(out, old);
    renameSync(next, out);
    break;
  } catch (error) {
    if (attempt === 10 || !["ENOTEMPTY", "EEXIST", "ENOENT"].includes(error.code)) throw error;
  }
}
rmSync(old, { recursive: true, force: true });

if (!quiet) {
  const sizes = ["index.html", "app.js", "app.css"].map((f) => {
    const bytes = readFileSync(join(out, f));
    return `${f} ${(bytes.length / 1024).toFixed(1)} KiB (${(gzipSync(bytes, { level: 9 }).length / 1024).toFixed(1)} KiB gzipped)`;
  });
  // On stderr: stdout is for what the build's caller parses (`npm pack --json` runs the build in prepack).
  process.stderr.write(`dashboard built in dist/ui: ${sizes.join(", ")}\n`);
}
