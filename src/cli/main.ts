/**
 * The CLI entry: the one catch and the one exit-code table (ARCHITECTURE.md). Command modules are loaded
 * lazily; `--version` answers before anything else is imported (test/cli/startup-modules.test.ts checks
 * what each path loads), so its start-up is bare Node's.
 */
import { packageVersion } from "./bundled.js";
import type { Loader } from "./commands/index.js";

export async function main(argv: string[]): Promise<void> {
  // `strata diff | head`: the reader leaving early is not an error of ours.
  const ignoreEpipe = (e: NodeJS.ErrnoException): void => {
    if (e.code !== "EPIPE") throw e;
  };
  process.stdout.on("error", ignoreEpipe);
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V")) {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  process.stderr.on("error", ignoreEpipe);
  const [{ EXIT, isStrataError }, { errColor, log }] = await Promise.all([
    import("../core/findings.js"),
    import("./output.js"),
  ]);
  try {
    await run(argv, EXIT.ok, EXIT.usage);
  } catch (error) {
    process.exitCode = reportError(error, { EXIT, isStrataError, errColor, log });
  }
}

async function run(argv: string[], ok: number, usage: number): Promise<void> {
  const [{ Command, CommanderError }, { commands }] = await Promise.all([
    import("commander"),
    import("./commands/index.js"),
  ]);
  const program = new Command("strata")
    .description("GitOps configuration: validate, resolve, diff, secrets and signed snapshots of config in git")
    .version(packageVersion(), "-V, --version")
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      (await import("./common.js")).examples([
        ["strata init config && cd config", "start a configuration repository"],
        ["strata validate", "check every environment"],
        ["strata resolve --env production", "the effective config of one environment"],
      ]) +
        "\nEach command has its own --help. Reference: https://github.com/strata-config/strata/blob/main/docs/reference.md; shell completion: strata completion --help\n",
    )
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  const name = argv.find((a) => !a.startsWith("-"));
  const table: Record<string, Loader> = commands;
  const known = name !== undefined && Object.hasOwn(table, name);
  // `completion` describes the whole command tree, so it needs every module, like the top-level help.
  const toLoad = known && name !== "completion" ? [name] : Object.keys(table);
  for (const n of toLoad) await table[n]?.().then((m) => m.register(program));

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; everything else commander rejects is an invocation problem.
      process.exitCode = error.exitCode === 0 ? ok : usage;
      return;
    }
    throw error;
  }
}

/** Maps any failure to its exit code and prints it once, without a stack trace unless it is a bug. */
function reportError(
  error: unknown,
  {
    EXIT,
    isStrataError,
    errColor,
    log,
  }: Pick<typeof import("../core/findings.js"), "EXIT" | "isStrataError"> &
    Pick<typeof import("./output.js"), "errColor" | "log">,
): number {
  if (isStrataError(error)) {
    log(`${errColor.red("error")} ${errColor.bold(`[${error.code}]`)} ${error.message}`);
    if (error.hint) log(`${errColor.dim("hint:")} ${error.hint}`);
    return error.exitCode;
  }
  const e = error instanceof Error ? error : new Error(String(error));
  log(`${errColor.red("internal error")} (a bug in strata; please report it with the output below)`);
  log(e.stack ?? e.message);
  return EXIT.internal;
}
