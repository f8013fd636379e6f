/**
 * Typed option tables (as vitest's cli-config.ts and citty's CommandDef): each command declares its
 * arguments and options once, as data (src/cli/table.ts). The table feeds commander (`attachCommand`), the
 * completion scripts (through the commander tree built from it), the options reference in docs/reference.md
 * (`renderOptionsReference`, kept in step by test/cli/option-tables.test.ts) and `parseCli`, which parses a
 * command line without running anything. The type of a command's parsed options is derived from its table
 * (`OptionValues`), so an action never declares its own and never needs a non-null assertion.
 */
import { Argument, Command, CommanderError, Option } from "commander";
import { StrataError } from "../core/findings.js";

/** How an option takes its value. */
export type OptionKind =
  /** `--all`: true when given. */
  | "flag"
  /** `--no-trust`: true unless given. */
  | "negated"
  /** `--repo <dir>`: one value. */
  | "value"
  /** `--env a --env b`, `--env a,b`: every value, comma-separated ones split. */
  | "list"
  /** `--scope a b`, `--scope a --scope b`: every value, each as given. */
  | "variadic";

export interface OptionDef {
  readonly kind: OptionKind;
  /** Commander's flags: `-e, --env <names>`, `--all`, `--no-trust`. */
  readonly flags: string;
  readonly description: string;
  readonly choices?: readonly string[];
  /** A value the option has when not given. */
  readonly default?: string;
  /** The command cannot run without it. */
  readonly required?: boolean;
  /**
   * Turns the text into the option's value (a `value` option): throws commander's InvalidArgumentError (its
   * message then names the option) or a StrataError.
   */
  readonly parse?: (value: string) => unknown;
}

export interface ArgumentDef {
  /** `<file>` (required), `[dir]` (optional), `[command...]` (every word left). */
  readonly name: string;
  readonly description: string;
  readonly choices?: readonly string[];
  readonly default?: string;
}

export interface CommandDef<
  O extends Readonly<Record<string, OptionDef>> = Readonly<Record<string, OptionDef>>,
  A extends readonly ArgumentDef[] = readonly ArgumentDef[],
> {
  /** The path below `strata`: `validate`, `keys generate`. */
  readonly path: string;
  readonly description: string;
  readonly arguments?: A;
  /** Keyed by the camel-case name commander gives the option (`--skip-secrets` → `skipSecrets`). */
  readonly options: O;
  readonly examples: readonly (readonly [string, string])[];
  /** Only a parent of subcommands (`keys`): no action of its own. */
  readonly group?: boolean;
}

/** Declares a command's table with its literal types kept (so `OptionValues` and `ArgumentValues` can read them). */
export function defineCommand<
  const O extends Readonly<Record<string, OptionDef>>,
  const A extends readonly ArgumentDef[] = readonly [],
>(def: CommandDef<O, A>): CommandDef<O, A> {
  return def;
}

type ValueOf<D extends OptionDef> = D extends { kind: "flag" }
  ? boolean | undefined
  : D extends { kind: "negated" }
    ? boolean
    : D extends { kind: "list" | "variadic" }
      ? D extends { required: true }
        ? string[]
        : string[] | undefined
      : D extends { parse: (value: string) => infer T }
        ? D extends { required: true }
          ? T
          : T | undefined
        : D extends { choices: readonly (infer C)[] }
          ? D extends { required: true } | { default: string }
            ? C
            : C | undefined
          : D extends { required: true } | { default: string }
            ? string
            : string | undefined;

/** The options that always have a value: negated flags, required options and options with a default. */
type Present<O extends Readonly<Record<string, OptionDef>>> = {
  [K in keyof O]: O[K] extends { kind: "negated" } | { required: true } | { default: string } ? K : never;
}[keyof O];

/** The parsed options of a command, typed from its table. */
export type OptionValues<O extends Readonly<Record<string, OptionDef>>> = {
  -readonly [K in Present<O>]: ValueOf<O[K]>;
} & { -readonly [K in Exclude<keyof O, Present<O>>]?: ValueOf<O[K]> };

type ArgumentValue<D extends ArgumentDef> = D["name"] extends `${string}...${string}`
  ? string[]
  : D extends { choices: readonly (infer C)[] }
    ? C
    : D["name"] extends `<${string}`
      ? string
      : D extends { default: string }
        ? string
        : string | undefined;

/** The positional arguments of a command, typed from its table: `<file>` a string, `[value]` maybe not, `[cmd...]` a list. */
export type ArgumentValues<A extends readonly ArgumentDef[]> = {
  -readonly [K in keyof A]: A[K] extends ArgumentDef ? ArgumentValue<A[K]> : never;
};

/** Collects `--env a --env b` and `--env a,b`. */
function collectList(value: string, previous: string[] = []): string[] {
  return [
    ...previous,
    ...value
      .split(",")
      .map((s) => s.trim())
      .filter(Boolean),
  ];
}

/** The `Examples:` block at the end of a command's `--help`. */
export function examples(list: readonly (readonly [string, string])[]): string {
  return `\nExamples:\n${list.map(([line, what]) => `  # ${what}\n  $ ${line}`).join("\n\n")}\n`;
}

function toOption(def: OptionDef): Option {
  const option = new Option(
    def.flags,
    def.kind === "list" ? `${def.description} (repeatable, or comma-separated)` : def.description,
  );
  if (def.choices) option.choices([...def.choices]);
  if (def.default !== undefined) option.default(def.default);
  if (def.required) option.makeOptionMandatory();
  if (def.kind === "list") option.argParser(collectList);
  if (def.parse) option.argParser(def.parse);
  return option;
}

/**
 * Adds the command of a table under `parent` (its parent path, `keys` for `keys generate`, must exist
 * already or is created bare): description, arguments, options and examples; the caller adds the action.
 */
export function attachCommand(root: Command, def: CommandDef): Command {
  const words = def.path.split(" ");
  let parent = root;
  for (const word of words.slice(0, -1))
    parent = parent.commands.find((c) => c.name() === word) ?? parent.command(word);
  const cmd = parent.command(words.at(-1)!).description(def.description);
  for (const a of def.arguments ?? []) {
    const argument = new Argument(a.name, a.description);
    if (a.choices) argument.choices([...a.choices]);
    if (a.default !== undefined) argument.default(a.default);
    cmd.addArgument(argument);
  }
  for (const o of Object.values(def.options)) cmd.addOption(toOption(o));
  if (def.examples.length > 0) cmd.addHelpText("after", examples(def.examples));
  return cmd;
}

/**
 * Binds a table's command to its action: the options and the arguments typed from the table, and the command
 * itself (for what only commander knows: the root of the tree, the raw words). Options a parent command also
 * declares (`--env` of `snapshot` and `snapshot verify`) are read at both levels.
 */
export function attachAction<O extends Readonly<Record<string, OptionDef>>, A extends readonly ArgumentDef[]>(
  root: Command,
  def: CommandDef<O, A>,
  action: (options: OptionValues<O>, args: ArgumentValues<A>, command: Command) => Promise<void> | void,
): Command {
  const cmd = attachCommand(root, def);
  return cmd.action(async (...received: unknown[]) => {
    const self = received.at(-1) as Command;
    await action(self.optsWithGlobals<OptionValues<O>>(), self.processedArgs as ArgumentValues<A>, self);
  });
}

export interface ParsedCli {
  /** The command's path: `validate`, `keys generate`. */
  command: string;
  /** In order; an optional argument not given is undefined, a variadic one a list. */
  args: (string | string[] | undefined)[];
  options: Record<string, unknown>;
}

/**
 * Parses a command line against the tables, running nothing: the command, its arguments and its typed
 * options, or an `invalid-argument` StrataError with commander's message (an unknown option, a missing
 * value, a choice that is not one). `--help` and `--version` are not commands: they parse to null.
 */
export function parseWithTable(argv: readonly string[], table: readonly CommandDef[]): ParsedCli | null {
  let parsed: ParsedCli | null = null;
  const program = programOf(table, (def, self) => {
    parsed = {
      command: def.path,
      args: self.processedArgs as ParsedCli["args"],
      options: self.optsWithGlobals(),
    };
  });
  const silence = (c: Command): void => {
    c.exitOverride().configureOutput({ writeErr: () => {}, writeOut: () => {} });
    c.commands.forEach(silence);
  };
  silence(program);
  try {
    program.parse([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.exitCode === 0) return null;
      throw new StrataError("invalid-argument", error.message.replace(/^error: /, ""), { cause: error });
    }
    throw error;
  }
  return parsed;
}

/**
 * The command tree of a table, each command's action `onRun` (for what reads the tree: parseCli, the
 * completion scripts).
 */
export function programOf(
  table: readonly CommandDef[],
  onRun: (def: CommandDef, command: Command) => void = () => {},
): Command {
  const program = new Command("strata");
  program.version("", "-V, --version").enablePositionalOptions();
  for (const def of table) {
    const cmd = attachCommand(program, def);
    if (!def.group) cmd.action((...received: unknown[]) => onRun(def, received.at(-1) as Command));
  }
  return program;
}

/** The options of every command of a table as markdown, for docs/reference.md ("Command-line options"). */
export function renderOptionsReference(table: readonly CommandDef[]): string {
  // Markdown, not HTML: `<file>` in prose would be read as a tag and vanish.
  const prose = (text: string): string => text.replaceAll("<", "\\<");
  const code = (text: string): string => `\`${text.replaceAll("|", "\\|")}\``;
  const cell = (text: string): string => prose(text).replaceAll("|", "\\|");
  const sections = [...table]
    .sort((a, b) => a.path.localeCompare(b.path))
    .map((def) => {
      const args = (def.arguments ?? []).map((a) => ` ${prose(a.name)}`).join("");
      const rows = Object.values(def.options).map((o) => {
        const extra = [
          o.required ? "required" : null,
          o.kind === "list" ? "repeatable, or comma-separated" : null,
          o.kind === "variadic" ? "one or more values" : null,
          o.choices ? `one of ${o.choices.map((c) => `\`${c}\``).join(", ")}` : null,
          o.default !== undefined ? `default \`${o.default}\`` : null,
        ].filter((x): x is string => x !== null);
        return `| ${code(o.flags)} | ${cell(o.description)}${extra.length ? ` (${extra.join("; ")})` : ""} |`;
      });
      const options = rows.length > 0 ? `\n| option | |\n|---|---|\n${rows.join("\n")}\n` : "";
      const argumentRows = (def.arguments ?? []).map((a) => {
        const extra = [
          a.choices ? `one of ${a.choices.map((c) => `\`${c}\``).join(", ")}` : null,
          a.default !== undefined ? `default \`${a.default}\`` : null,
        ].filter((x): x is string => x !== null);
        return `| ${code(a.name)} | ${cell(a.description)}${extra.length ? ` (${extra.join("; ")})` : ""} |`;
      });
      const argumentTable = argumentRows.length > 0 ? `\n| argument | |\n|---|---|\n${argumentRows.join("\n")}\n` : "";
      return `### strata ${def.path}${args}\n\n${prose(def.description)}\n${argumentTable}${options}`;
    });
  return sections.join("\n");
}
