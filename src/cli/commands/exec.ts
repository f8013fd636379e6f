import type { Command } from "commander";
import { resolveExecEnvironment } from "../../app/resolve.js";
import { exitCodeForFindings, StrataError } from "../../core/findings.js";
import { registeredSecrets } from "../../core/redact.js";
import { runCommand } from "../../io/process/run-command.js";
import { openRepository, openSecrets } from "../common.js";
import { attachAction } from "../spec.js";
import { execCommand } from "../table.js";
import { renderFindingsText } from "../render/findings.js";
import { log, maskCommands } from "../output.js";

export function register(program: Command): void {
  attachAction(program, execCommand, async (opts) => {
    if (opts.showSecrets && opts.skipSecrets)
      throw new StrataError("invalid-argument", "--show-secrets and --skip-secrets exclude each other");
    // `--` is required, so an option meant for the command is never taken as one of strata's.
    const raw = (program as unknown as { rawArgs: string[] }).rawArgs;
    const dash = raw.indexOf("--");
    const argv = dash < 0 ? [] : raw.slice(dash + 1);
    if (dash < 0 || argv.length === 0 || argv[0] === "") {
      throw new StrataError("invalid-argument", "strata exec needs -- and then the command to run", {
        hint: "strata exec --env staging -- node server.js",
      });
    }
    const { files } = openRepository(opts);
    const result = await resolveExecEnvironment({
      files,
      environment: opts.env,
      secrets: await openSecrets(Boolean(opts.skipSecrets), Boolean(opts.ignoreMac)),
      includeSecrets: Boolean(opts.showSecrets),
    });
    const errors = result.findings.filter((f) => f.severity === "error");
    if (result.findings.length)
      log(renderFindingsText(result.findings, errors.length ? `✗ ${opts.env}: not running ${argv[0]}` : "").trimEnd());
    if (errors.length) {
      process.exitCode = exitCodeForFindings(result.findings);
      return;
    }
    if (result.omitted.length)
      log(
        `warning: ${result.omitted.length} sensitive value(s) left out of the environment (${result.omitted.join(", ")}); pass --show-secrets to include them`,
      );
    // Whatever the command prints under GitHub Actions, the runner hides the secrets it was given.
    if (process.env.GITHUB_ACTIONS === "true" && result.secretValues.length)
      process.stderr.write(maskCommands([...result.secretValues, ...registeredSecrets()]).join(""));
    const env: Record<string, string> = {};
    for (const [k, v] of Object.entries(process.env)) if (v !== undefined) env[k] = v;
    Object.assign(env, result.variables);
    const outcome = await runCommand(argv[0]!, argv.slice(1), env);
    if (outcome.kind === "exited") process.exitCode = outcome.code;
    // As a shell reports it: 128 + the signal's number.
    else if (outcome.kind === "signaled") process.exitCode = 128 + outcome.number;
    else {
      // As env(1) does: 127 when the command is not found, 126 when it cannot be run.
      log(`error: cannot run ${argv[0]}: ${outcome.errno === "ENOENT" ? "command not found" : outcome.message}`);
      process.exitCode = outcome.errno === "ENOENT" ? 127 : 126;
    }
  });
}
