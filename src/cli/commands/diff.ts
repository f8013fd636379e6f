import type { Command } from "commander";
import { diffConfig } from "../../app/diff.js";
import { hasChanges } from "../../core/diff/model.js";
import { EXIT } from "../../core/findings.js";
import { locateCommitsRoot } from "../../app/worktree.js";
import { addRepoOption, collectList, examples, openSecrets, printJson } from "../common.js";
import { log, print, printData, withSpinner } from "../output.js";
import { renderDiffGithub, writeDiffStepSummary } from "../render/diff-github.js";
import { renderDiffMarkdown } from "../render/diff-markdown.js";
import { renderDiffText } from "../render/diff-text.js";
import { Option } from "commander";

interface DiffFlags {
  base?: string;
  head?: string;
  env?: string[];
  format?: "text" | "markdown" | "json" | "github";
  exitCode?: boolean;
  quiet?: boolean;
  incremental: boolean;
  skipSecrets?: boolean;
  repo?: string;
}

export function register(program: Command): void {
  const cmd = program
    .command("diff")
    .description(
      "effective-config diff per environment between two commits (default: merge-base with the default branch vs the working tree)",
    )
    .addHelpText(
      "after",
      examples([
        ["strata diff", "your working tree against the merge-base with the default branch"],
        ["strata diff --base main --head HEAD --env production", "two commits, one environment"],
        ["strata diff --format json --exit-code", "for scripts: exit 1 when anything changes"],
        ["strata diff --quiet --env production || echo changed", "only the exit code"],
      ]),
    )
    .option("--base <ref>", "base commit (default: merge-base of head with origin/HEAD, main or master)")
    .option("--head <ref>", "head commit (default: the working tree, uncommitted and untracked files included)")
    .option("-e, --env <name>", "only this environment (repeatable, or comma-separated)", collectList)
    .addOption(
      new Option("-o, --format <format>", "output format (default: text, or github in GitHub Actions)").choices([
        "text",
        "markdown",
        "json",
        "github",
      ]),
    )
    .option("--exit-code", "exit 1 when the effective configuration changes")
    .option("-q, --quiet", "print nothing; implies --exit-code (exit 1 when anything changes)")
    .option("--no-incremental", "resolve every environment and namespace, not only what the change can reach")
    .option("--skip-secrets", "do not decrypt: compare ciphertext (sensitive changes are then uncertain)");
  addRepoOption(cmd);
  cmd.action(async (opts: DiffFlags) => {
    const dir = locateCommitsRoot(opts.repo ?? process.cwd());
    const secrets = (await openSecrets(Boolean(opts.skipSecrets))) ?? null;
    const compare = (): ReturnType<typeof diffConfig> =>
      diffConfig({
        dir,
        ...(opts.base !== undefined ? { base: opts.base } : {}),
        ...(opts.head !== undefined ? { head: opts.head } : {}),
        ...(opts.env !== undefined ? { environments: opts.env } : {}),
        incremental: opts.incremental,
        secrets,
      });
    const outcome = opts.quiet ? await compare() : await withSpinner("comparing the effective configuration", compare);
    const { result } = outcome;
    const headBroken =
      result.problems.some((p) => p.side === "head") ||
      Object.values(result.environments).some((e) => e.invalid.length > 0);
    if (headBroken || ((opts.exitCode || opts.quiet) && hasChanges(result))) process.exitCode = EXIT.findings;
    if (opts.quiet) return;
    for (const note of outcome.notes) log(`note: ${note}`);
    const format = opts.format ?? (process.env.GITHUB_ACTIONS === "true" ? "github" : "text");
    if (format === "json") printData(printJson(result));
    else if (format === "markdown") print(renderDiffMarkdown(result));
    else if (format === "github") {
      printData(renderDiffGithub(result, dir));
      writeDiffStepSummary(result);
    } else print(renderDiffText(result, { base: outcome.baseLabel, head: outcome.headLabel }));
  });
}
