// The typed option tables (src/cli/spec.ts, src/cli/table.ts): parsed without a process, the same tree
// commander runs, and docs/reference.md's "Command-line options" rendered from them.
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { renderCompletion } from "../../src/cli/render/completion.js";
import { commands } from "../../src/cli/commands/index.js";
import { attachCommand, programOf, renderOptionsReference } from "../../src/cli/spec.js";
import { COMMAND_TABLE, parseCli } from "../../src/cli/table.js";
import { isStrataError } from "../../src/core/findings.js";

function invalid(argv: string[]): string {
  try {
    parseCli(argv);
  } catch (error) {
    expect(isStrataError(error) && error.code).toBe("invalid-argument");
    return (error as Error).message;
  }
  throw new Error(`${argv.join(" ")} parsed`);
}

describe("parseCli", () => {
  it("parses a command's options, short flags, lists and defaults", () => {
    expect(parseCli(["validate", "-e", "staging,production", "--env", "qa", "-o", "json", "-q"])).toEqual({
      command: "validate",
      args: [],
      options: { env: ["staging", "production", "qa"], format: "json", quiet: true },
    });
    expect(parseCli(["push", "--all", "--signing-key", "k.pem"])).toEqual({
      command: "push",
      args: [],
      options: { all: true, signingKey: "k.pem", format: "text" },
    });
    expect(parseCli(["diff", "--no-incremental"])!.options).toEqual({ incremental: false });
    expect(parseCli(["init"])).toEqual({ command: "init", args: ["."], options: {} });
    expect(parseCli(["log", "-e", "production", "database.**", "--max-count", "5"])).toEqual({
      command: "log",
      args: ["database.**"],
      options: { env: "production", maxCount: "5" },
    });
    expect(parseCli(["keys", "generate", "--out", "-", "--no-trust"])).toEqual({
      command: "keys generate",
      args: [],
      options: { out: "-", trust: false },
    });
  });

  it("refuses what commander refuses, with its message", () => {
    expect(invalid(["validate", "--format", "yaml"])).toMatch(/argument 'yaml' is invalid/);
    expect(invalid(["push", "--bogus"])).toMatch(/unknown option '--bogus'/);
    expect(invalid(["rollback", "-e", "production"])).toMatch(/required option '--to <version>' not specified/);
    expect(invalid(["validate", "--env"])).toMatch(/argument missing/);
    expect(invalid(["explain", "-e", "production"])).toMatch(/missing required argument 'key'/);
    // A command's --version is its own (impact's version number); the program's comes before any command.
    expect(invalid(["impact", "-e", "production", "--version"])).toMatch(/argument missing/);
    expect(parseCli(["impact", "-e", "production", "--version", "3"])!.options).toMatchObject({ version: 3 });
  });

  it("--help and --version are no command", () => {
    expect(parseCli(["--version"])).toBeNull();
    expect(parseCli(["push", "--help"])).toBeNull();
  });
});

describe("the tables", () => {
  it("key each option by the name commander gives it", () => {
    for (const def of COMMAND_TABLE) {
      const cmd = attachCommand(new Command("strata"), def);
      expect(
        cmd.options.map((o) => o.attributeName()),
        def.path,
      ).toEqual(Object.keys(def.options));
    }
  });

  it("feed the completion scripts: every option of every table is completed", () => {
    const program = new Command("strata");
    for (const def of COMMAND_TABLE) attachCommand(program, def);
    const bash = renderCompletion("bash", program);
    for (const def of COMMAND_TABLE)
      for (const o of Object.values(def.options))
        for (const word of o.flags.split(/[ ,]+/).filter((w) => w.startsWith("-")))
          expect(bash, `${def.path} ${word}`).toContain(word);
    expect(bash).toContain("'strata validate:-e')");
  });

  it("are docs/reference.md's command-line options (STRATA_UPDATE_DOCS=1 rewrites the section)", () => {
    const file = new URL("../../docs/reference.md", import.meta.url);
    const text = readFileSync(file, "utf8");
    const begin = "<!-- options: generated from src/cli/table.ts -->\n";
    const end = "<!-- end of options -->";
    const start = text.indexOf(begin);
    const stop = text.indexOf(end);
    expect(start, "docs/reference.md has the generated options section").toBeGreaterThan(0);
    const want = renderOptionsReference(COMMAND_TABLE);
    if (process.env.STRATA_UPDATE_DOCS === "1")
      writeFileSync(file, text.slice(0, start + begin.length) + "\n" + want + "\n" + text.slice(stop));
    else expect(text.slice(start + begin.length, stop).trim()).toBe(want.trim());
  });
});

/** Every command of a commander tree below the root, by path (`secrets set`). */
function walk(cmd: Command, prefix = ""): Map<string, Command> {
  const found = new Map<string, Command>();
  for (const sub of cmd.commands) {
    const path = prefix ? `${prefix} ${sub.name()}` : sub.name();
    found.set(path, sub);
    for (const [p, c] of walk(sub, path)) found.set(p, c);
  }
  return found;
}

/** What the tables decide about a command: its description, arguments and options. */
function shape(cmd: Command): unknown {
  return {
    description: cmd.description(),
    arguments: cmd.registeredArguments.map((a) => [a.name(), a.required, a.variadic, a.argChoices ?? null]),
    options: cmd.options.map((o) => [o.flags, o.description, o.mandatory, o.argChoices ?? null, o.defaultValue]),
  };
}

describe("no option outside the tables", () => {
  it("the commands the modules register are the tables' commands, with exactly the tables' options and arguments", async () => {
    const program = new Command("strata");
    for (const load of Object.values(commands)) (await load()).register(program);
    const registered = walk(program);
    const declared = walk(programOf(COMMAND_TABLE));
    expect([...registered.keys()].sort()).toEqual(COMMAND_TABLE.map((def) => def.path).sort());
    for (const [path, cmd] of registered) expect(shape(cmd), path).toEqual(shape(declared.get(path)!));
  });

  it("no command module calls commander's option or command API itself", () => {
    // The run-time comparison above catches what a module registers; this names the line that does it.
    const dir = new URL("../../src/cli/", import.meta.url);
    const registration =
      /\.(option|requiredOption|addOption|argument|addArgument|command|arguments)\(|new (Option|Argument|Command)\(/;
    const offenders: string[] = [];
    const files = readdirSync(dir, { recursive: true, encoding: "utf8" }).filter(
      (f) => f.endsWith(".ts") && f !== "spec.ts" && f !== "main.ts",
    );
    expect(files.length).toBeGreaterThan(20);
    for (const file of files)
      readFileSync(new URL(file, dir), "utf8")
        .split("\n")
        .forEach((line, i) => {
          if (registration.test(line)) offenders.push(`src/cli/${file}:${i + 1}: ${line.trim()}`);
        });
    expect(offenders, "declare options and commands in src/cli/table.ts").toEqual([]);
  });
});
