// @module-tag e2e
// app and cli do no raw I/O of their own: the two loopholes issue 25 found (app starting a process through
// execa and installing signal handlers; cli files importing node:fs) fail lint, except the cli files
// eslint.config.js names with their reasons.
import { ESLint } from "eslint";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const root = fileURLToPath(new URL("../..", import.meta.url));
const eslint = new ESLint({ cwd: root });

async function ruleIds(file: string, text: string): Promise<string[]> {
  const [result] = await eslint.lintText(text, { filePath: `${root}/${file}` });
  return (result?.messages ?? []).map((m) => m.ruleId ?? m.message);
}

describe("raw I/O outside src/io", () => {
  it.each([
    `import { execa } from "execa";\nexport const x = execa;\n`,
    `import * as m from "node:child_process";\nexport const x = m;\n`,
  ])("app may not start processes itself: %s", async (text) => {
    expect(await ruleIds("src/app/lint-fixture.ts", text)).toContain("no-restricted-imports");
  });

  it.each([
    `process.on("SIGINT", () => undefined);\n`,
    `process.once("SIGTERM", () => undefined);\n`,
    `process.kill(process.pid, "SIGINT");\n`,
    `process.exit(1);\n`,
  ])("app may not handle or send signals: %s", async (text) => {
    expect(await ruleIds("src/app/lint-fixture.ts", text)).toContain("no-restricted-syntax");
  });

  it.each(["node:fs", "fs", "node:fs/promises", "node:child_process", "execa"])(
    "cli may not import %s",
    async (mod) => {
      expect(
        await ruleIds("src/cli/commands/lint-fixture.ts", `import * as m from "${mod}";\nexport const x = m;\n`),
      ).toContain("no-restricted-imports");
    },
  );

  it.each(["src/cli/output.ts", "src/cli/templates.ts", "src/cli/main.ts"])("%s is a named exception", async (file) => {
    expect(await ruleIds(file, `import * as m from "node:fs";\nexport const x = m;\n`)).not.toContain(
      "no-restricted-imports",
    );
  });
});
