// Builds dist/ (the SDK package's and the dashboard's too) once per test run so the end-to-end tests spawn the CLI as users run it. Only the files
// tagged `e2e` use dist/, so a run that leaves them out (`npm run test:fast`) skips the build, and runs the
// CLI as a stub that fails (test/support/no-built-cli.mjs): an untagged file that spawns it fails there
// instead of silently testing whatever dist/ a working copy has.
import { execFileSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { TestProject } from "vitest/node";

export default function setup(project: TestProject): void {
  const root = fileURLToPath(new URL("../..", import.meta.url));
  if (process.env.STRATA_TEST_SKIP_BUILD === "1") return;
  if ((project.config.tagsFilter ?? []).some((f) => /!\s*e2e\b/.test(f))) {
    process.env.STRATA_TEST_CLI = fileURLToPath(new URL("./no-built-cli.mjs", import.meta.url));
    return;
  }
  execFileSync(
    process.execPath,
    [fileURLToPath(new URL("../../node_modules/typescript/bin/tsc", import.meta.url)), "-p", "tsconfig.build.json"],
    { cwd: root, stdio: "inherit" },
  );
  // strata.yaml's validator generated at build time, as `npm run build` does (docs/performance.md).
  execFileSync(process.execPath, [fileURLToPath(new URL("../../scripts/build-validators.mjs", import.meta.url))], {
    cwd: root,
    stdio: "inherit",
  });
  // The SDK package (packages/client), which `strata-config/client` re-exports.
  execFileSync(process.execPath, [fileURLToPath(new URL("../../scripts/build-client.mjs", import.meta.url))], {
    cwd: root,
    stdio: "inherit",
  });
  // The dashboard (dist/ui), here and only here: every `strata serve` a test spawns serves it, so it is built
  // before any test file starts. Built by each browser test file instead, it was missing for a file that
  // only visits it (test/cli/services-publish.test.ts, run alone), and a build swapping dist/ui while another
  // file's server read it gave that server half a dashboard.
  execFileSync(
    process.execPath,
    [fileURLToPath(new URL("../../scripts/build-ui.mjs", import.meta.url)), "--no-typecheck", "--quiet"],
    { cwd: root, stdio: "inherit" },
  );
}
