// @module-tag e2e
// Every command's --help has a description and examples (a person meets the CLI through --help), and the
// help text never cites a document users do not have.
import { Command } from "commander";
import { describe, expect, it } from "vitest";
import { commands } from "../../src/cli/commands/index.js";
import { strata } from "../support/cli.js";

async function program(): Promise<Command> {
  const root = new Command("strata");
  for (const load of Object.values(commands)) (await load()).register(root);
  return root;
}

function all(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(all)];
}

function helpOf(cmd: Command): string {
  let out = "";
  cmd.configureOutput({
    writeOut: (s) => {
      out += s;
    },
    writeErr: (s) => {
      out += s;
    },
  });
  cmd.outputHelp();
  return out;
}

describe("--help", () => {
  it("every command and subcommand has a description and two or three examples", async () => {
    const root = await program();
    const problems: string[] = [];
    for (const cmd of all(root).slice(1)) {
      const path: string[] = [];
      for (let c: Command | null = cmd; c && c !== root; c = c.parent) path.unshift(c.name());
      const name = path.join(" ");
      if (cmd.description().trim() === "") problems.push(`${name}: no description`);
      const help = helpOf(cmd);
      const count = (help.match(/^ {2}\$ /gm) ?? []).length;
      if (!help.includes("\nExamples:\n") || count < 2 || count > 3) problems.push(`${name}: ${count} examples`);
      if (/SPEC/.test(help)) problems.push(`${name}: cites SPEC`);
    }
    expect(problems).toEqual([]);
  });

  it("the top-level help ends with examples and where to read more", async () => {
    const r = await strata(["--help"]);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toMatch(/Examples:\n {2}# .*\n {2}\$ strata init/);
    expect(r.stdout).toContain("docs/reference.md");
  });
});

describe("self-contained documentation", () => {
  it("nothing users read, nor any source comment, cites the original specification", async () => {
    const { execaSync } = await import("execa");
    const { projectRoot } = await import("../support/cli.js");
    const r = execaSync("grep", ["-rn", "SPEC", "src", "docs", "README.md", "ARCHITECTURE.md", "templates"], {
      cwd: projectRoot,
      reject: false,
    });
    expect(String(r.stdout)).toBe("");
  });
});
