import type { Command } from "commander";
import { diffConfig } from "../../app/diff.js";
import { hasChanges } from "../../core/diff/model.js";
import { EXIT } from "../../core/findings.js";
import { locateCommitsRoot } from "../../app/worktree.js";
import { openSecrets, printJson } from "../common.js";
import { attachAction } from "../spec.js";
import { diffCommand } from "../table.js";
import { log, print, printData, withSpinner } from "../output.js";
import { renderDiffGithub, writeDiffStepSummary } from "../render/diff-github.js";
import { renderDiffMarkdown } from "../render/diff-markdown.js";
import { renderDiffText } from "../render/diff-text.js";

export function register(program: Command): void {
  attachAction(program, diffCommand, async (opts) => {
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
