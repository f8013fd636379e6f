// `npm run test:fast` leaves out the files tagged `e2e` and `slow` and skips building dist/: so every file
// that spawns the built CLI, a daemon or the repository generator must carry the `e2e` tag.
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { projectRoot } from "../support/cli.js";

function testFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = join(dir, name);
    if (statSync(full).isDirectory()) return name === "fixtures" ? [] : testFiles(full);
    return name.endsWith(".test.ts") ? [full] : [];
  });
}

const SPAWNS = /\bstrata\(|\bcliPath\b|\bstartServe\(|\bstartEtcd\(|\bgeneratorPath\b|\bstrataBin\b/;
const TAG = /^\/\/ @module-tag (e2e|slow)\b/m;

describe("suite tags", () => {
  it("every test file that spawns the CLI, a daemon or the generator is tagged e2e", () => {
    const untagged = testFiles(join(projectRoot, "test"))
      .filter((f) => !f.endsWith("suite-tags.test.ts"))
      .filter((f) => {
        const text = readFileSync(f, "utf8");
        return SPAWNS.test(text) && TAG.exec(text)?.[1] !== "e2e";
      })
      .map((f) => relative(projectRoot, f));
    expect(untagged).toEqual([]);
  });
});
