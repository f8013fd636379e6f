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
import { readFile } from "node:fs/promises";
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
  banner: {
    js: 'import { createRequire as __strataRequire } from "node:module"; const require = __strataRequire(import.meta.url);',
  },
};

// Cached validators (ajv standalone code, src/core/schema/compile.ts) require() ajv's runtime helpers by
// package path, through a require made with createRequire(import.meta.url). Beside the bundle there is no
// node_modules, so every cached validator would be a miss. In the bundle, that require answers from the
// bundled copies instead: the modules ajv's standalone code can name for JSON Schema (not JTD's parse, nor
// re2, which strata does not enable).
// ajv itself is loaded through the same require, on first use only (a run whose validators all come from
// the cache never builds it): its three entry points are answered from the bundle as well.
const VALIDATOR_RUNTIME = ["equal", "quote", "timestamp", "ucs2length", "uri", "validation_error"]
  .map((m) => `ajv/dist/runtime/${m}`)
  .concat("ajv-formats/dist/formats", "ajv/dist/2020.js", "ajv-formats", "ajv/dist/standalone/index.js");
const bundledValidatorRuntime = {
  name: "bundled-validator-runtime",
  setup(b) {
    b.onLoad({ filter: /src[\\/]core[\\/]schema[\\/]compile\.ts$/ }, async (args) => {
      const source = await readFile(args.path, "utf8");
      const line = "const requireForValidators = createRequire(import.meta.url);";
      if (!source.includes(line)) throw new Error(`${args.path} no longer has "${line}": update scripts/bundle.mjs`);
      const cases = VALIDATOR_RUNTIME.map(
        (m) => `    case ${JSON.stringify(m)}: return require(${JSON.stringify(m)});`,
      ).join("\n");
      const replacement = `const requireForValidators = (id: string): unknown => {\n  switch (id) {\n${cases}\n    default: throw new Error(\`\${id} is not bundled\`);\n  }\n};\nvoid createRequire;`;
      return { contents: source.replace(line, replacement), loader: "ts" };
    });
  },
};

await build({
  ...common,
  plugins: [bundledValidatorRuntime],
  stdin: {
    contents: 'import { main } from "./src/cli/main.ts";\nawait main(process.argv.slice(2));\n',
    resolveDir: root,
    sourcefile: "strata-bundle-entry.ts",
    loader: "ts",
  },
  outfile: join(outDir, "strata.mjs"),
  external: ["etcd3"],
  // jsonc-parser's `main` is a UMD build whose require() calls esbuild cannot follow; its ES build is whole.
  alias: { "jsonc-parser": "jsonc-parser/lib/esm/main.js" },
  define: { STRATA_BUNDLE: JSON.stringify({ version: pkg.version, workflowTemplate }) },
});

await build({
  ...common,
  entryPoints: [join(root, "action/src/main.ts")],
  outfile: join(outDir, "main.mjs"),
  define: { STRATA_VERSION: JSON.stringify(pkg.version) },
});
