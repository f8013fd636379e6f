// @module-tag e2e
// Progress (a spinner on stderr) shows on an interactive terminal only: never in piped output, CI logs or
// GitHub Actions. The terminal cases run the CLI under script(1), which gives it a pseudo-terminal.
import { execaSync } from "execa";
import { afterAll, describe, expect, it } from "vitest";
import { cleanupTempdirs, gitdir } from "../support/gitdir.js";
import { cliPath, projectRoot, strata } from "../support/cli.js";
import { lacking } from "../support/shared.js";

afterAll(cleanupTempdirs);

/** ora hides the cursor first and draws braille frames. */
// eslint-disable-next-line no-control-regex -- the escape sequence is what is looked for
const SPINNER = /\x1b\[\?25l|[\u2800-\u28ff]/;

const noScript = lacking("a spinner on a terminal (script(1) gives the CLI one)", { tool: "script" });

function onTerminal(args: string[], env: Record<string, string> = {}): string {
  const command = `stty cols 100 rows 30; ${[process.execPath, cliPath, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(" ")}`;
  const r = execaSync("script", ["-qec", command, "/dev/null"], {
    cwd: projectRoot,
    env: { NO_COLOR: "1", CI: "", GITHUB_ACTIONS: "", ...env },
    input: "",
    reject: false,
    timeout: 60_000,
  });
  return String(r.stdout);
}

describe("progress", () => {
  it("piped output (stdout and stderr) has no spinner: validate and diff", async () => {
    const v = await strata(["validate", "--skip-secrets"]);
    expect(v.exitCode).toBe(0);
    expect(v.stdout + v.stderr).not.toMatch(SPINNER);
    const repo = gitdir({
      "strata.yaml": "version: 1\nenvironments:\n  production: {}\n",
      "schemas/app.schema.yaml": "type: object\nproperties:\n  port: { type: integer }\n",
      "environments/production/app.yaml": "port: 1\n",
    });
    const d = await strata(["diff", "--base", "HEAD", "--repo", repo]);
    expect(d.exitCode, d.stderr).toBe(0);
    expect(d.stdout + d.stderr).not.toMatch(SPINNER);
  });

  it.skipIf(noScript)("on a terminal, validate shows a spinner on stderr", () => {
    const out = onTerminal(["validate", "--skip-secrets"]);
    expect(out).toMatch(SPINNER);
    expect(out).toContain("loading the repository");
    expect(out).toContain("environment(s) valid");
  });

  it.skipIf(noScript)("on a terminal under CI=true or GITHUB_ACTIONS=true, no spinner", () => {
    expect(onTerminal(["validate", "--skip-secrets", "--format", "text"], { CI: "true" })).not.toMatch(SPINNER);
    expect(onTerminal(["validate", "--skip-secrets", "--format", "text"], { GITHUB_ACTIONS: "true" })).not.toMatch(
      SPINNER,
    );
  });
});
