import type { Command } from "commander";
import { initRepository } from "../../app/init.js";
import { loadWorkflowTemplate } from "../templates.js";
import { color, print } from "../output.js";

export function register(program: Command): void {
  program
    .command("init")
    .description("scaffold a configuration repository: strata.yaml, a sample schema, environments, .sops.yaml and the GitHub workflow")
    .argument("[dir]", "where (default: the current directory)", ".")
    .action(async (dir: string) => {
      const written = await initRepository(dir, await loadWorkflowTemplate());
      print(`${color.green("✓")} created a strata repository in ${dir}:\n${written.map((f) => `  ${f}`).join("\n")}\n\nnext: strata validate --repo ${dir}`);
    });
}
