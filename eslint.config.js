// @ts-check
import js from "@eslint/js";
import tseslint from "typescript-eslint";
import { importX } from "eslint-plugin-import-x";

// The dependency rule of ARCHITECTURE.md: cli -> app -> {core, io}; io -> core; server -> {app, core, io};
// client -> core; core imports nothing outside itself.
const layers = [
  { target: "./src/core", from: ["./src/io", "./src/app", "./src/cli", "./src/server", "./src/client"], message: "core is pure: it imports nothing outside src/core" },
  { target: "./src/io", from: ["./src/app", "./src/cli", "./src/server", "./src/client"], message: "io may import only core" },
  { target: "./src/app", from: ["./src/cli", "./src/server", "./src/client"], message: "app may import only core and io" },
  { target: "./src/server", from: ["./src/cli", "./src/client"], message: "server may import app, core and io" },
  { target: "./src/client", from: ["./src/io", "./src/app", "./src/cli", "./src/server"], message: "the SDK imports core only" },
];

export default tseslint.config(
  { ignores: ["scratch/**", "dist/**", "action/*.mjs", "node_modules/**", "coverage/**", "schemas/**", "environments/**"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    plugins: { "import-x": importX },
    rules: {
      "import-x/no-restricted-paths": ["error", { zones: layers }],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "no-restricted-syntax": [
        "error",
        { selector: "CallExpression[callee.object.name='process'][callee.property.name='exit']", message: "set process.exitCode; only the CLI entry decides how to exit" },
      ],
    },
  },
  {
    files: ["**/*.mjs", "**/*.js"],
    languageOptions: { globals: { process: "readonly", console: "readonly", URL: "readonly", setTimeout: "readonly", clearTimeout: "readonly", setInterval: "readonly", clearInterval: "readonly", performance: "readonly", Buffer: "readonly", fetch: "readonly", AbortController: "readonly" } },
  },
);
