// What the browser tests of the dashboard share: its bundle, the example repository, the screenshots they publish.
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "./cli.js";

/** The global setup builds dist/ with tsc; the dashboard's bundle is built by scripts/build-ui.mjs. */
export function buildDashboard(): void {
  execFileSync(process.execPath, [join(projectRoot, "scripts", "build-ui.mjs"), "--no-typecheck", "--quiet"], {
    cwd: projectRoot,
    stdio: "inherit",
  });
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
