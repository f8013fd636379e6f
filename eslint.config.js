// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { importX } from "eslint-plugin-import-x";
import { createTypeScriptImportResolver } from "eslint-import-resolver-typescript";

// The dependency rule of ARCHITECTURE.md: cli -> app -> {core, io}; io -> core; server -> {app, core, io};
// client -> core (cli may load client: the agent command); core imports nothing outside itself. The SDK's one
// exception is io/fs/write-atomic.ts, the one atomic writer (its cache file): it imports only node:*.
const layers = [
  {
    target: "./src/core",
    from: ["./src/io", "./src/app", "./src/cli", "./src/server", "./src/client"],
    message: "core is pure: it imports nothing outside src/core",
  },
  {
    target: "./src/io",
    from: ["./src/app", "./src/cli", "./src/server", "./src/client"],
    message: "io may import only core",
  },
  {
    target: "./src/app",
    from: ["./src/cli", "./src/server", "./src/client"],
    message: "app may import only core and io",
  },
  // cli reaches io through app use cases; the exceptions (ARCHITECTURE.md) are where cli only hands an io
  // object to a use case: the result cache, exec's child process.
  {
    target: "./src/cli",
    from: "./src/io",
    except: ["./cache/resolved.ts", "./process/run-command.ts"],
    message: "cli reaches io through src/app (or add a documented exception here and in ARCHITECTURE.md)",
  },
  { target: "./src/server", from: ["./src/cli", "./src/client"], message: "server may import app, core and io" },
  {
    target: "./src/client",
    from: ["./src/app", "./src/cli", "./src/server"],
    message: "the SDK imports core only",
  },
  // The one atomic, link-safe writer (Node built-ins and core only) writes the SDK's cache file and the
  // agent's output files.
  {
    target: "./src/client",
    from: "./src/io",
    except: ["./fs/write-atomic.ts", "./fs/files.ts"],
    message: "the SDK imports core only (and the one atomic writer, io/fs/write-atomic.ts and files.ts)",
  },
];

const processExit = {
  selector: "CallExpression[callee.object.name='process'][callee.property.name='exit']",
  message: "set process.exitCode; only the CLI entry decides how to exit",
};

export default tseslint.config(
  {
    ignores: [
      "scratch/**",
      "dist/**",
      "packages/*/dist/**",
      "action/*.mjs",
      "node_modules/**",
      "coverage/**",
      "schemas/**",
      "environments/**",
      "test/lint/fixtures/**",
    ],
  },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    plugins: { "import-x": importX },
    // The code imports TypeScript sources through `.js` specifiers (nodenext); without a resolver that maps
    // them back to `.ts`, no-restricted-paths cannot see where an import goes and silently passes it.
    settings: {
      "import-x/resolver-next": [createTypeScriptImportResolver({ project: "./tsconfig.json" })],
      // no-cycle follows imports by parsing the target files: it must know they are TypeScript.
      "import-x/extensions": [".ts", ".js", ".mjs"],
      "import-x/parsers": { "@typescript-eslint/parser": [".ts"] },
    },
    rules: {
      "import-x/no-restricted-paths": ["error", { zones: layers }],
      "import-x/no-cycle": ["error", { ignoreExternal: true }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-syntax": ["error", processExit],
    },
  },
  {
    // The OpenFeature provider is its own entry (strata-config/openfeature): it reads the SDK by its package
    // name, types only, so a service that links both has one SDK; it imports none of strata's modules.
    files: ["src/openfeature/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^\\.\\./",
              message:
                "the provider imports the SDK by its package name (@strata-config/client), never a module of src/",
            },
          ],
        },
      ],
    },
  },
  {
    // core is pure: no file system, processes, network or process state (ARCHITECTURE.md). The layer rule
    // above covers the project's own modules; this covers Node's.
    files: ["src/core/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex:
                "^(node:)?(fs|fs/promises|child_process|http|https|http2|net|tls|dgram|dns|worker_threads|cluster|readline|os)$",
              message: "core is pure: do I/O in src/io (or src/app) and pass the data in",
            },
          ],
        },
      ],
      "no-restricted-globals": [
        "error",
        { name: "process", message: "core is pure: take what you need from process as a parameter" },
      ],
    },
  },
  {
    // app decides, io does: a use case reads and writes files through src/io helpers (io/fs/files.ts and
    // the others), never through Node's file or process modules itself, and starts no process and handles no
    // signal of its own (io/process does: exec's child, the secrets editor) (ARCHITECTURE.md).
    files: ["src/app/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^((node:)?(fs|fs/promises|child_process)|execa)$",
              message: "app does its I/O through src/io (io/fs/files.ts, io/git, io/process): add a named helper there",
            },
          ],
        },
      ],
      "no-restricted-syntax": [
        "error",
        processExit,
        {
          selector:
            "CallExpression[callee.object.name='process'][callee.property.name=/^(on|once|addListener|prependListener|kill)$/]",
          message: "app handles and sends no signals: do it in src/io/process (e.g. removeOnSignal)",
        },
      ],
    },
  },
  {
    // cli wires commands and prints: files and processes go through src/app (and the io exceptions above).
    // These files are named exceptions, each with its reason.
    files: ["src/cli/**/*.ts"],
    ignores: [
      // The command's own output channel: stdout, stderr and the file an `--out` flag names.
      "src/cli/output.ts",
      // The package's own files beside the code (package.json for --version, templates/), not user data.
      "src/cli/main.ts",
      "src/cli/templates.ts",
      "src/cli/bundled.ts",
      // $GITHUB_STEP_SUMMARY: goes once the two step-summary writers are folded into io/github/env.ts.
      "src/cli/render/findings.ts",
    ],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              regex: "^((node:)?(fs|fs/promises|child_process)|execa)$",
              message:
                "cli reaches files and processes through src/app (output.ts writes --out files); or name the file as an exception in eslint.config.js with its reason",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: {
      globals: {
        process: "readonly",
        console: "readonly",
        URL: "readonly",
        setTimeout: "readonly",
        clearTimeout: "readonly",
        setInterval: "readonly",
        clearInterval: "readonly",
        performance: "readonly",
        Buffer: "readonly",
        fetch: "readonly",
        AbortController: "readonly",
      },
    },
  },
  {
    // The command's CommonJS entry (start-up: no ES module loader for `strata --version`).
    files: ["bin/*.cjs"],
    languageOptions: {
      sourceType: "commonjs",
      globals: { require: "readonly", __dirname: "readonly", process: "readonly" },
    },
    rules: { "@typescript-eslint/no-require-imports": "off" },
  },
);
