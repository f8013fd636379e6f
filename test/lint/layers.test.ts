// @module-tag e2e
// The layer rule of ARCHITECTURE.md is only worth something if lint fails on a wrong-way import: these
// lint virtual files placed inside src/ and expect the failures (and a clean pass for allowed imports).
import { ESLint } from "eslint";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const eslint = new ESLint({ cwd: root });

async function ruleIds(file: string, text: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: `${root}/${file}` });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe("the layer rule", () => {
  it.each([
    ["src/core/lint-fixture.ts", `import { stores } from "../io/stores/index.js";\nexport const x = stores;\n`],
    [
      "src/core/lint-fixture.ts",
      `import { loadRepository } from "../app/repository.js";\nexport const x = loadRepository;\n`,
    ],
    [
      "src/io/lint-fixture.ts",
      `import { loadRepository } from "../app/repository.js";\nexport const x = loadRepository;\n`,
    ],
    ["src/app/lint-fixture.ts", `import { main } from "../cli/main.js";\nexport const x = main;\n`],
    [
      "src/cli/lint-fixture.ts",
      `import { findRepositoryRoot } from "../io/repo/worktree.js";\nexport const x = findRepositoryRoot;\n`,
    ],
  ])("%s: a wrong-way import fails lint", async (file, text) => {
    expect(await ruleIds(file, text)).toContain("import-x/no-restricted-paths");
  });

  it("allows the right way: app -> core and io", async () => {
    const text = `import { StrataError } from "../core/findings.js";\nimport { stores } from "../io/stores/index.js";\nexport const x = [StrataError, stores];\n`;
    expect(await ruleIds("src/app/lint-fixture.ts", text)).toEqual([]);
  });

  it.each(["node:fs", "fs/promises", "node:child_process", "node:http", "node:net"])(
    "core may not import %s",
    async (mod) => {
      expect(
        await ruleIds("src/core/lint-fixture.ts", `import * as m from "${mod}";\nexport const x = m;\n`),
      ).toContain("no-restricted-imports");
    },
  );

  it("allows cli the documented io exceptions (the result cache, exec's child)", async () => {
    const text = `import { createResultCache } from "../io/cache/resolved.js";\nimport { runCommand } from "../io/process/run-command.js";\nexport const x = [createResultCache, runCommand];\n`;
    expect(await ruleIds("src/cli/lint-fixture.ts", text)).toEqual([]);
  });

  it("no longer lets cli import the GitHub environment reader (the job summary is written by cli/output.ts)", async () => {
    const text = `import { readGitHubEnvironment } from "../io/github/env.js";\nexport const x = readGitHubEnvironment;\n`;
    expect(await ruleIds("src/cli/lint-fixture.ts", text)).toContain("import-x/no-restricted-paths");
  });

  it.each(["node:fs", "fs", "node:fs/promises", "node:child_process", "child_process"])(
    "app may not import %s",
    async (mod) => {
      expect(await ruleIds("src/app/lint-fixture.ts", `import * as m from "${mod}";\nexport const x = m;\n`)).toContain(
        "no-restricted-imports",
      );
    },
  );

  it("allows app its file I/O through io/fs/files.ts", async () => {
    const text = `import { readTextFile } from "../io/fs/files.js";\nexport const x = readTextFile;\n`;
    expect(await ruleIds("src/app/lint-fixture.ts", text)).toEqual([]);
  });

  it("the OpenFeature provider reads the SDK by its package name, never a module of src/", async () => {
    const wrong = `import { StrataClient } from "../client/index.js";\nexport const x = StrataClient;\n`;
    expect(await ruleIds("src/openfeature/lint-fixture.ts", wrong)).toContain("no-restricted-imports");
    const right = `import type { StrataClient } from "@strata-config/client";\nexport type X = StrataClient;\n`;
    expect(await ruleIds("src/openfeature/lint-fixture.ts", right)).toEqual([]);
  });

  it("an import cycle fails lint", async () => {
    const cycleLinter = new ESLint({ cwd: root, ignore: false });
    const results = await cycleLinter.lintFiles([`${root}/test/lint/fixtures/cycle-a.ts`]);
    expect(results.flatMap((r) => r.messages.map((m) => m.ruleId))).toContain("import-x/no-cycle");
  });

  it("core may not touch process", async () => {
    expect(
      await ruleIds("src/core/lint-fixture.ts", `export const out = () => process.stdout.write("x");\n`),
    ).toContain("no-restricted-globals");
  });
});
