/**
 * The GitHub Action's entry (action.yml: `runs.using: node24`, `main: action/main.mjs`). The runner
 * starts it with its own Node and passes each input as an `INPUT_<NAME>` environment variable; it runs
 * the bundled CLI (action/strata.mjs, beside it) with the same Node. Nothing is installed or built.
 *
 * No input ever reaches a shell. The `command` input is split into words the way a POSIX shell splits
 * quoted text (shlex: quotes and backslashes only) and nothing else: `$(...)`, backticks, `$VAR`, globs
 * and `~` stay literal characters of an argument. The words go to the CLI as an argument list, and the
 * secret inputs as environment variables.
 */
import { spawn } from "node:child_process";
import { appendFileSync, chmodSync, existsSync, mkdirSync, statSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { split } from "shlex";

/** The input's value as the runner passes it (actions/toolkit's getInput: spaces to `_`, upper case). */
export function readInput(env: NodeJS.ProcessEnv, name: string): string {
  return (env[`INPUT_${name.replace(/ /g, "_").toUpperCase()}`] ?? "").trim();
}

/** The `command` input as an argument list: shell quoting rules, no expansion of any kind. */
export function parseCommand(text: string): string[] {
  try {
    return split(text);
  } catch (e) {
    throw new Error(`the command input cannot be split into arguments: ${(e as Error).message}`, { cause: e });
  }
}

/** Inputs that become the environment variables strata reads; an empty input sets nothing. */
const ENVIRONMENT_INPUTS: readonly (readonly [input: string, variable: string])[] = [
  ["github-token", "GITHUB_TOKEN"],
  ["endpoint", "STRATA_ENDPOINT"],
  ["strata-token", "STRATA_TOKEN"],
  ["signing-key", "STRATA_SIGNING_KEY"],
  ["age-key", "SOPS_AGE_KEY"],
  ["github-login", "STRATA_GITHUB_LOGIN"],
];

/**
 * The CLI's environment: the runner's, without any INPUT_* (secrets travel once, under the names strata
 * reads), plus the inputs given. An empty STRATA_ENDPOINT must not hide strata.yaml's, so empty inputs
 * set nothing.
 */
export function createCliEnvironment(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const out: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(env)) if (!k.startsWith("INPUT_")) out[k] = v;
  for (const [input, variable] of ENVIRONMENT_INPUTS) {
    const value = readInput(env, input);
    if (value !== "") out[variable] = value;
  }
  return out;
}

/** strata's version, put in by the bundle build (scripts/bundle.mjs); absent when run from source. */
declare const STRATA_VERSION: string | undefined;

/**
 * Outputs for the caller's cache key: strata's version and the major version of the Node that runs it
 * (a cache written by one strata or Node may hold what another cannot use).
 */
function writeOutputs(env: NodeJS.ProcessEnv): void {
  if (!env.GITHUB_OUTPUT) return;
  const version = typeof STRATA_VERSION === "undefined" ? "source" : STRATA_VERSION;
  appendFileSync(env.GITHUB_OUTPUT, `version=${version}\nnode-major=${process.versions.node.split(".")[0]}\n`);
}

/** POSIX single-quoting, for the one file this entry writes: the `strata` wrapper on PATH. */
function quoteForShell(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Puts a `strata` command on PATH for the job's later `run:` steps (the same Node, the same bundle). */
function addToPath(env: NodeJS.ProcessEnv, cli: string): void {
  if (!env.RUNNER_TEMP || !env.GITHUB_PATH) return;
  const bin = join(env.RUNNER_TEMP, "strata-bin");
  mkdirSync(bin, { recursive: true });
  const wrapper = join(bin, "strata");
  writeFileSync(wrapper, `#!/bin/sh\nexec ${quoteForShell(process.execPath)} ${quoteForShell(cli)} "$@"\n`);
  chmodSync(wrapper, 0o755);
  appendFileSync(env.GITHUB_PATH, `${bin}\n`);
}

/** Runs the action; resolves with the exit code the step should have. */
export async function runAction(env: NodeJS.ProcessEnv, cli: string): Promise<number> {
  const fail = (message: string): number => {
    // A workflow command: the runner shows it as an error annotation on the step.
    process.stdout.write(
      `::error title=strata action::${message.replace(/%/g, "%25").replace(/\r/g, "%0D").replace(/\n/g, "%0A")}\n`,
    );
    return 2;
  };
  let args: string[];
  try {
    args = parseCommand(readInput(env, "command"));
  } catch (e) {
    return fail((e as Error).message);
  }
  const workingDirectory = resolve(readInput(env, "working-directory") || ".");
  if (!existsSync(workingDirectory) || !statSync(workingDirectory).isDirectory())
    return fail(`working-directory ${JSON.stringify(workingDirectory)} is not a directory`);
  addToPath(env, cli);
  writeOutputs(env);
  if (args.length === 0) return 0;
  const child = spawn(process.execPath, [cli, ...args], {
    cwd: workingDirectory,
    env: createCliEnvironment(env),
    stdio: "inherit",
    shell: false,
  });
  return new Promise((done) => {
    child.once("error", (e) => done(fail(`could not start strata: ${e.message}`)));
    child.once("exit", (code, signal) => done(code ?? (signal ? 1 : 0)));
  });
}

// Run only as the action's entry, not when a test imports the module.
const self = fileURLToPath(import.meta.url);
if (process.argv[1] !== undefined && resolve(process.argv[1]) === self) {
  process.exitCode = await runAction(process.env, join(dirname(self), "strata.mjs"));
}
