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
  if (argv.length === 1 && (argv[0] === "--version" || argv[0] === "-V" || argv[0] === "version")) {
    process.stdout.write(`${packageVersion()}\n`);
    return;
  }
  process.stderr.on("error", ignoreEpipe);
  const [{ EXIT, isStrataError }, output] = await Promise.all([import("../core/findings.js"), import("./output.js")]);
  try {
    await run(argv, EXIT.ok, EXIT.usage, output);
  } catch (error) {
    process.exitCode = reportError(error, argv, { EXIT, isStrataError, ...output });
  }
}

type Output = typeof import("./output.js");

/** The command a failure belongs to, for the job summary: `push`, `secrets decrypt`. */
function commandName(argv: readonly string[]): string {
  const words: string[] = [];
  for (const a of argv) {
    if (a.startsWith("-")) break;
    words.push(a);
    if (words.length === 2) break;
  }
  return words.join(" ");
}

/**
 * Under GitHub Actions a failure is also an `::error` annotation titled with its code (located when it has
 * a place) and a line of the job summary, so a red step says why where reviewers look.
 */
function reportToGithub(
  output: Output,
  argv: readonly string[],
  code: string,
  message: string,
  hint: string | null,
  at: { file?: string | null; line?: number | null; column?: number | null } = {},
): void {
  if (!output.githubMode()) return;
  output.printAnnotations(output.errorAnnotation(code, message, hint, at));
  const name = commandName(argv);
  output.appendStepSummary(
    `### strata${name ? ` ${name}` : ""}: failed\n\n:x: \`${code}\` ${message.replace(/\n/g, " ")}${hint ? `\n\nhint: ${hint.replace(/\n/g, " ")}` : ""}\n`,
  );
}

async function run(argv: string[], ok: number, usage: number, output: Output): Promise<void> {
  const [{ Command, CommanderError }, { commands }, { docsUrl }] = await Promise.all([
    import("commander"),
    import("./commands/index.js"),
    import("../core/docs.js"),
  ]);
  const program = new Command("strata")
    .description("GitOps configuration: validate, resolve, diff, secrets and signed snapshots of config in git")
    .version(packageVersion(), "-V, --version")
    // `strata impact --version 7` is impact's option: the program's own options come before the command.
    .enablePositionalOptions()
    .showHelpAfterError("(run with --help for usage)")
    .addHelpText(
      "after",
      (await import("./common.js")).examples([
        ["strata init config && cd config", "start a configuration repository"],
        ["strata validate", "check every environment"],
        ["strata resolve --env production", "the effective config of one environment"],
      ]) +
        `\nEach command has its own --help. Reference: ${docsUrl("reference")}; shell completion: strata completion --help\n`,
    )
    .exitOverride()
    .configureOutput({ writeErr: (s) => process.stderr.write(s), writeOut: (s) => process.stdout.write(s) });

  const name = argv.find((a) => !a.startsWith("-"));
  const table: Record<string, Loader> = commands;
  const known = name !== undefined && Object.hasOwn(table, name);
  // `completion` writes its scripts from the option tables: it needs only its own module.
  const toLoad = known ? [name] : Object.keys(table);
  for (const n of toLoad) await table[n]?.().then((m) => m.register(program));

  try {
    await program.parseAsync(argv, { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; everything else commander rejects is an invocation problem (its
      // message is already on stderr).
      process.exitCode = error.exitCode === 0 ? ok : usage;
      if (error.exitCode !== 0)
        reportToGithub(
          output,
          argv,
          "invalid-argument",
          error.message.replace(/^error: /, ""),
          "run with --help for usage",
        );
      return;
    }
    throw error;
  }
}

/** Maps any failure to its exit code and prints it once, without a stack trace unless it is a bug. */
function reportError(
  error: unknown,
  argv: readonly string[],
  context: Pick<typeof import("../core/findings.js"), "EXIT" | "isStrataError"> & Output,
): number {
  const { EXIT, isStrataError, errColor, log } = context;
  if (isStrataError(error)) {
    log(`${errColor.red("error")} ${errColor.bold(`[${error.code}]`)} ${error.message}`);
    if (error.hint) log(`${errColor.dim("hint:")} ${error.hint}`);
    reportToGithub(context, argv, error.code, error.message, error.hint, error.finding ?? {});
    return error.exitCode;
  }
  const e = error instanceof Error ? error : new Error(String(error));
  log(`${errColor.red("internal error")} (a bug in strata; please report it with the output below)`);
  log(e.stack ?? e.message);
  reportToGithub(
    context,
    argv,
    "internal",
    `internal error (a bug in strata): ${e.message}`,
    "the log has the stack trace",
  );
  return EXIT.internal;
}
