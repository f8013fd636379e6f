import type { Command } from "commander";
import {
  adoptRepository,
  checkActionRef,
  fillWorkflow,
  hasActionPlaceholder,
  initRepository,
  workflowBranch,
} from "../../app/init.js";
import { packageVersion } from "../bundled.js";
import { loadWorkflowTemplate } from "../templates.js";
import { printJson } from "../common.js";
import { attachAction } from "../spec.js";
import { initCommand } from "../table.js";
import { color, print, printData } from "../output.js";

export function register(program: Command): void {
  attachAction(program, initCommand, async (opts, [dir = "."]) => {
    const version = packageVersion();
    if (opts.actionRef !== undefined) checkActionRef(opts.actionRef);
    const workflow = fillWorkflow(await loadWorkflowTemplate(), {
      actionRef: opts.actionRef ?? null,
      defaultBranch: await workflowBranch(dir, opts.defaultBranch),
      version,
    });
    const todo = (workflowText: string | null): string =>
      workflowText !== null && hasActionPlaceholder(workflowText)
        ? `\n${color.yellow("to do")}: pin strata's action in .github/workflows/strata.yml: its \`uses: strata-config/strata@000…\` lines are a placeholder that fails every job. Put the commit SHA of strata v${version} there (git ls-remote https://github.com/strata-config/strata refs/tags/v${version}), or run: strata init --existing --action-ref SHA`
        : "";
    /** The JSON report: what was written, what was left alone, and whether the workflow still needs its pin. */
    const report = (
      written: string[],
      leftAlone: { path: string; note: string | null }[],
      current: string | null,
    ): void =>
      printData(
        printJson({
          schemaVersion: 1,
          directory: dir,
          existing: Boolean(opts.existing),
          written,
          leftAlone: leftAlone.map((f) => ({ path: f.path, note: f.note })),
          actionPinned: !(current !== null && hasActionPlaceholder(current)),
        }),
      );
    if (!opts.existing) {
      const written = await initRepository(dir, workflow);
      if (opts.format === "json") return report(written, [], workflow);
      print(
        `${color.green("✓")} created a strata repository in ${dir}:\n${written.map((f) => `  ${f}`).join("\n")}\n\nnext: strata validate --repo ${dir}${todo(workflow)}`,
      );
      return;
    }
    const {
      written,
      leftAlone,
      workflow: current,
    } = await adoptRepository(dir, workflow, {
      actionRef: opts.actionRef ?? null,
    });
    if (opts.format === "json") return report(written, leftAlone, current);
    print(
      written.length
        ? `${color.green("✓")} wrote into ${dir}:\n${written.map((f) => `  ${f}`).join("\n")}`
        : `${color.green("✓")} ${dir} has everything init writes; nothing written`,
    );
    if (leftAlone.length)
      print(
        `left alone (already there):\n${leftAlone.map((f) => `  ${f.path}${f.note ? color.dim(`  ${f.note}`) : ""}`).join("\n")}`,
      );
    print(`\nnext: strata validate --repo ${dir}${todo(current)}`);
  });
}
