#!/usr/bin/env node
// `npm run bundle`: the single-file builds the GitHub Action runs with the runner's own Node (action.yml),
// committed under action/ as GitHub Actions require:
//   action/strata.mjs  the whole CLI (src/cli/main.ts) and its dependencies in one ES module
//   action/main.mjs    the action's entry (action/src/main.ts): reads the inputs, runs strata.mjs
// `--out DIR` writes them elsewhere (the staleness test builds into a temp dir and compares).
// etcd3 stays external: it reads its .proto files from its own directory at run time, and the action
// never serves. It is an optional package (src/io/optional-package.ts), imported only for an etcd store,
// so the bundle without it says which package to install. AWS KMS is bundled: CI decrypts with it.
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const outFlag = process.argv.indexOf("--out");
const outDir = outFlag > 0 ? resolve(process.argv[outFlag + 1]) : join(root, "action");

const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"));
const workflowTemplate = readFileSync(join(root, "templates/strata-workflow.yml"), "utf8");

const common = {
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  target: "node20.19",
  format: "esm",
  minify: true,
  legalComments: "eof",
  logLevel: "warning",
  // CommonJS dependencies call require() for Node built-ins; an ES module has none of its own.
  banner: { js: 'import { createRequire as __strataRequire } from "node:module"; const require = __strataRequire(import.meta.url);' },
};

await build({
  ...common,
  stdin: {
    contents: 'import { main } from "./src/cli/main.ts";\nawait main(process.argv.slice(2));\n',
    resolveDir: root,
    sourcefile: "strata-bundle-entry.ts",
    loader: "ts",
  },
  outfile: join(outDir, "strata.mjs"),
  external: ["etcd3"],
  define: { STRATA_BUNDLE: JSON.stringify({ version: pkg.version, workflowTemplate }) },
});

await build({ ...common, entryPoints: [join(root, "action/src/main.ts")], outfile: join(outDir, "main.mjs"), define: { STRATA_VERSION: JSON.stringify(pkg.version) } });
