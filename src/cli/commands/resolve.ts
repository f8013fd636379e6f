import type { Command } from "commander";
import { Option } from "commander";
import { stringify } from "yaml";
import { resolveConfig } from "../../app/resolve.js";
import { createFinding, exitCodeForFindings, StrataError, type Finding } from "../../core/findings.js";
import type { JsonValue } from "../../core/json.js";
import { redactConfig, renderEnvLines, sensitiveValues, valueAt } from "../../core/render-config.js";
import { registeredSecrets } from "../../core/redact.js";
import { addRepoOption, examples, openRepository, openSecrets } from "../common.js";
import { renderFindingsText } from "../render/findings.js";
import { log, printData, printPlaintext } from "../output.js";

export function register(program: Command): void {
  const cmd = program
    .command("resolve")
    .description("print the effective config of one environment")
    .addHelpText("after", examples([["strata resolve --env production", "the whole effective config, sensitive values as <sensitive>"], ["strata resolve --env production --key database.pool --format json", "one key, as JSON"], ["strata resolve --env staging --format env --show-secrets", "NAMESPACE_KEY='value' lines, secrets included"]]))
    .requiredOption("--env <name>", "the environment")
    .option("--key <key>", "print only this key's value (e.g. database.pool)")
    .addOption(new Option("--format <format>", "output format").choices(["yaml", "json", "env"]).default("yaml"))
    .option("--show-secrets", "print sensitive values in plaintext (masked in GitHub Actions logs)")
    .option("--skip-secrets", "do not decrypt; sensitive values print as <sensitive>")
    .option("--ignore-mac", "decrypt SOPS files that have no MAC");
  addRepoOption(cmd);
  cmd.action(async (opts: { env: string; key?: string; format: "yaml" | "json" | "env"; showSecrets?: boolean; skipSecrets?: boolean; ignoreMac?: boolean; repo?: string }) => {
    if (opts.showSecrets && opts.skipSecrets) throw new StrataError("invalid-argument", "--show-secrets and --skip-secrets exclude each other");
    const { files } = openRepository(opts);
    const { resolved, findings } = await resolveConfig({ files, environment: opts.env, secrets: await openSecrets(Boolean(opts.skipSecrets), Boolean(opts.ignoreMac)) });
    const errors = findings.filter((f) => f.severity === "error");
    // Findings go to stderr: stdout carries the data only, and never data that failed validation.
    if (findings.length) log(renderFindingsText(findings, errors.length ? `✗ ${opts.env} does not resolve: ${errors.length} error(s)` : "").trimEnd());
    if (errors.length) {
      process.exitCode = exitCodeForFindings(findings);
      return;
    }
    const show = Boolean(opts.showSecrets);
    const config = show ? resolved.config : redactConfig(resolved);
    let value: JsonValue | undefined = config as unknown as JsonValue;
    if (opts.key) {
      value = valueAt(config as unknown as Record<string, JsonValue>, opts.key);
      if (value === undefined) throw keyNotFound(opts.key, opts.env);
    }
    // Redaction is structural (redactConfig): the text redactor never touches data. Shown secrets are
    // masked, interpolated ones (a URL carrying a password) as well as the decrypted values themselves.
    const out = (text: string): void => (show ? printPlaintext(text, [...registeredSecrets(), ...sensitiveValues(resolved.leaves.values())]) : printData(text));
    if (opts.format === "json") out(JSON.stringify(value, null, 2) + "\n");
    else if (opts.format === "yaml") out(stringify(value, { lineWidth: 0 }));
    else {
      const env = renderEnvLines(resolved.leaves.values(), { showSecrets: show, prefix: opts.key ?? null });
      if (env.collisions.length) {
        const fs: Finding[] = env.collisions.map(([name, a, b]) => createFinding({ code: "invalid-key", message: `${a} and ${b} both become the variable ${name}`, key: b, hint: "rename one of the keys, or use --format json" }));
        log(renderFindingsText(fs, "✗ env output would be ambiguous").trimEnd());
        process.exitCode = exitCodeForFindings(fs);
        return;
      }
      if (env.omitted.length) log(`warning: ${env.omitted.length} sensitive value(s) left out (${env.omitted.join(", ")}); pass --show-secrets to include them`);
      out(env.lines.join("\n") + (env.lines.length ? "\n" : ""));
    }
  });
}

function keyNotFound(key: string, env: string): StrataError {
  return new StrataError("unknown-key", `${key} has no value in ${env}`, { hint: `list the keys with: strata resolve --env ${env}` });
}
