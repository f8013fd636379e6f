// What the browser tests of the dashboard share (the global setup builds its bundle): the example repository, the screenshots they publish,
// the browser (Debian's chromium driven by playwright-core) and the accessibility check.
import { cpSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium, type Browser, type Page } from "playwright-core";
import { expect } from "vitest";
import { projectRoot } from "./cli.js";

/** The browser: Debian's chromium unless STRATA_CHROMIUM names another. */
export const CHROMIUM = process.env.STRATA_CHROMIUM ?? "/usr/bin/chromium";

/** Headless, without the sandbox (CI runs as root) or a GPU, with /tmp for shared memory (small /dev/shm). */
export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
}

const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

/** axe-core on the page as it is: no serious or critical violation (`name` says which page in the failure). */
export async function checkAccessibility(page: Page, name: string): Promise<void> {
  // Evaluated, not injected as a script tag: the dashboard's CSP forbids inline scripts, as it should.
  await page.evaluate(axeSource);
  // Strings, not functions: the tests compile without the DOM's types.
  const result = (await page.evaluate(`axe.run(document, { resultTypes: ["violations"] })`)) as {
    violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[];
  };
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(
    bad.map((v) => `${name}: ${v.id} (${v.impact}) ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`),
  ).toEqual([]);
}

/** The example repository at the project root, copied into `repo` (not committed: callers add what they need). */
export function copyExampleRepository(repo: string): void {
  for (const p of ["strata.yaml", ".sops.yaml", "schemas", "environments"])
    cpSync(join(projectRoot, p), join(repo, p), { recursive: true });
}

/** With STRATA_UPDATE_SCREENSHOTS=1, the screenshots a test took in `dir` replace those in docs/screenshots/. */
export function publishScreenshots(dir: string): void {
  if (process.env.STRATA_UPDATE_SCREENSHOTS !== "1" || !existsSync(dir)) return;
  for (const f of readdirSync(dir)) cpSync(join(dir, f), join(projectRoot, "docs", "screenshots", f));
}
