import type { Command } from "commander";
import { adoptRepository, initRepository } from "../../app/init.js";
import { loadWorkflowTemplate } from "../templates.js";
import { addExamples } from "../common.js";
import { color, print } from "../output.js";

export function register(program: Command): void {
  const cmd = program
    .command("init")
    .description(
      "scaffold a configuration repository: strata.yaml, a sample schema, environments, .sops.yaml, the GitHub workflow, .gitignore and the editor schemas (.strata/, .vscode/settings.json)",
    )
    .argument("[dir]", "where (default: the current directory)", ".")
    .option(
      "--existing",
      "adopt a repository that already has files: write only what is missing and list what was left alone",
    );
  addExamples(cmd, [
    ["strata init config && cd config", "a new repository in ./config"],
    ["strata init --existing", "adopt the current directory: add the workflow, editor schemas, .gitignore lines"],
  ]);
  cmd.action(async (dir: string, opts: { existing?: boolean }) => {
    const workflow = await loadWorkflowTemplate();
    if (!opts.existing) {
      const written = await initRepository(dir, workflow);
      print(
        `${color.green("✓")} created a strata repository in ${dir}:\n${written.map((f) => `  ${f}`).join("\n")}\n\nnext: strata validate --repo ${dir}`,
      );
      return;
    }
    const { written, leftAlone } = await adoptRepository(dir, workflow);
    print(
      written.length
        ? `${color.green("✓")} wrote into ${dir}:\n${written.map((f) => `  ${f}`).join("\n")}`
        : `${color.green("✓")} ${dir} has everything init writes; nothing written`,
    );
    if (leftAlone.length)
      print(
        `left alone (already there):\n${leftAlone.map((f) => `  ${f.path}${f.note ? color.dim(`  ${f.note}`) : ""}`).join("\n")}`,
      );
    print(`\nnext: strata validate --repo ${dir}`);
  });
}
