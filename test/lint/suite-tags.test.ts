// `npm run test:fast` leaves out the files tagged `e2e` and `slow` and does not build dist/: so every file
// that reaches the built CLI (spawned, through a helper, or imported from dist/ or by the package's name), a
// daemon, chromium, eslint or the repository generator must carry the `e2e` tag (e2e-analysis.ts finds
// them through the syntax tree and every helper they import). The fast tier also runs the CLI as a stub
// that fails (test/support/global-setup.ts), so a file the analysis missed fails instead of testing a
// stale dist/.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../support/cli.js";
import { filesNeedingE2e } from "./e2e-analysis.js";

function sources(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return name === "fixtures" ? [] : sources(full);
    return name.endsWith(".ts") ? [full] : [];
  });
}

const TAG = /^\/\/ @module-tag (e2e|slow)\b/m;

describe("suite tags", () => {
  it("every test file that reaches the built CLI, a daemon or an external program is tagged e2e", () => {
    // This file's own examples name dist/ and the CLI on purpose.
    const files = new Map(
      sources(join(projectRoot, "test"))
        .map((f) => [relative(projectRoot, f), readFileSync(f, "utf8")] as const)
        .filter(([f]) => f !== "test/lint/suite-tags.test.ts"),
    );
    const { e2e, reasons } = filesNeedingE2e(files);
    expect(e2e.size).toBeGreaterThan(20);
    const untagged = [...e2e]
      .filter((f) => TAG.exec(files.get(f)!)?.[1] !== "e2e")
      .map((f) => `${f}: ${reasons.get(f)}`)
      .sort();
    expect(untagged).toEqual([]);
  });
});

describe("the analysis behind the tags", () => {
  const support = {
    "test/support/cli.ts": `import { fileURLToPath } from "node:url";
export const projectRoot = fileURLToPath(new URL("../..", import.meta.url));
export const cliPath = fileURLToPath(new URL("../../bin/strata.mjs", import.meta.url));
export async function strata(args: string[]) { return run(process.execPath, [cliPath, ...args]); }`,
    "test/support/serve.ts": `import { cliPath, projectRoot } from "./cli.js";
export async function spawnServe(args: string[]) { return spawn(process.execPath, [cliPath, "serve", ...args], { cwd: projectRoot }); }`,
    "test/client/support.ts": `import { spawnServe } from "../support/serve.js";
import { tempdir } from "../support/gitdir.js";
export async function startEndpoint() { const ep = { start: async () => spawnServe([]) }; await ep.start(); return ep; }
export function waitFor() { return tempdir(); }`,
    "test/support/gitdir.ts": `export function tempdir() { return "/tmp/x"; }`,
    "test/support/shared.ts": `export const generatorPath = join(corpus, "bench/gen-config-repo.mjs");`,
    "test/support/etcd.ts": `import { findTool } from "./shared.js";
export const etcdBinary = findTool("etcd");
export async function startEtcd() { return spawn(etcdBinary!, []); }`,
  };
  const verdict = (tests: Record<string, string>): string[] =>
    [...filesNeedingE2e(new Map(Object.entries({ ...support, ...tests }))).e2e].sort();

  it.each([
    ["a call of the CLI helper", `import { strata } from "../support/cli.js"; it("x", () => strata(["validate"]));`],
    ["the CLI's path", `import { cliPath } from "../support/cli.js"; spawn(process.execPath, [cliPath]);`],
    ["spawnServe(", `import { spawnServe } from "../support/serve.js"; await spawnServe([]);`],
    ["startEndpoint( (a helper of a helper)", `import { startEndpoint } from "./support.js"; await startEndpoint();`],
    ["startEtcd(", `import { startEtcd } from "../support/etcd.js"; await startEtcd();`],
    ["the generator", `import { generatorPath } from "../support/shared.js"; execFileSync("node", [generatorPath]);`],
    ["an import of dist/", `import { createClient } from "../../dist/client/index.js";`],
    ["a dynamic import of dist/", `const m = await import("../../dist/cli/main.js");`],
    ["a path into dist/", `readFileSync(join(projectRoot, "dist", "ui", "index.html"));`],
    ["the package by name (its exports are dist/)", 'writeFileSync(f, `await import("strata-config/client")`);'],
    ["bin/strata.mjs in a command line", "execSync(`node bin/strata.mjs resolve --env production`);"],
    ["npm start's script", `await execa(process.execPath, ["scripts/start.mjs"]);`],
    ["a build script", `execFileSync(process.execPath, [join(projectRoot, "scripts", "build-ui.mjs")]);`],
    ["a browser", `import { chromium } from "playwright-core"; await chromium.launch();`],
    ["eslint", `import { ESLint } from "eslint"; new ESLint({});`],
    [
      "a local helper that spawns",
      `import { cliPath } from "../support/cli.js"; function run() { return cliPath; } run();`,
    ],
  ])("finds %s", (_name, text) => {
    expect(verdict({ "test/client/x.test.ts": text })).toEqual(["test/client/x.test.ts"]);
  });

  it.each([
    [
      "the project root alone",
      `import { projectRoot } from "../support/cli.js"; readFileSync(join(projectRoot, "README.md"));`,
    ],
    ["a helper that spawns nothing", `import { waitFor } from "./support.js"; await waitFor();`],
    ["a source import", `import { parseYaml } from "../../src/core/yaml/parse.js";`],
    ["the word distance", `const distance = 3; expect("redistribute").toBe("x");`],
    ["a package's own dist/", `import { Ajv2020 } from "ajv/dist/2020.js";`],
  ])("leaves alone %s", (_name, text) => {
    expect(verdict({ "test/client/x.test.ts": text })).toEqual([]);
  });
});
