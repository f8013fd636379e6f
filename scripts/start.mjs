#!/usr/bin/env node
// `npm start`: strata's main job on the example repository at the project root, end to end with the
// built CLI: validate every environment, then show production-eu's effective config and where a few
// of its values come from.
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = fileURLToPath(new URL("../bin/strata.mjs", import.meta.url));
// The example's secrets are encrypted to a key committed for the example only (README: "The example
// repository"). Use it unless the caller brought their own.
const env = { ...process.env };
if (!env.SOPS_AGE_KEY && !env.SOPS_AGE_KEY_FILE && !env.SOPS_AGE_KEY_CMD) {
  env.SOPS_AGE_KEY_FILE = fileURLToPath(new URL("../examples/keys/EXAMPLE-ONLY-NOT-A-REAL-KEY.age.txt", import.meta.url));
}

function step(title, args) {
  const bold = process.env.NO_COLOR || !process.stdout.isTTY ? (s) => s : (s) => `\u001b[1m${s}\u001b[0m`;
  process.stdout.write(`\n${bold(`$ strata ${args.join(" ")}`)}  # ${title}\n`);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, stdio: "inherit", env });
  if (r.status !== 0) {
    process.stderr.write(`strata ${args[0]} exited ${r.status}\n`);
    process.exitCode = r.status ?? 1;
    return false;
  }
  return true;
}

const ok =
  step("the environment tree", ["envs"]) &&
  step("validate every environment", ["validate"]) &&
  step("the effective config of production-eu (secrets decrypted, shown as <sensitive>)", ["resolve", "--env", "production-eu"]) &&
  step("one secret on purpose (GitHub Actions would mask it first)", ["resolve", "--env", "production", "--key", "database.password", "--show-secrets"]) &&
  step("where the EU database host comes from", ["explain", "--env", "production-eu", "database.host"]) &&
  step("an array merged by name across three layers", ["explain", "--env", "production-eu", "database.replicas"]) &&
  step("an interpolated value", ["explain", "--env", "production-eu", "database.url"]);
if (ok) process.stdout.write("\nAll environments are valid. Next: `npm test`, or `strata --help`.\n");
