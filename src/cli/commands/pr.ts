import type { Command } from "commander";
import { commentOnPullRequest } from "../../app/approvals/comment.js";
import { connectGitHub, resolvePullRequestNumber } from "../../app/approvals/connect.js";
import { resolveDiffSeam } from "../../app/approvals/diff-seam.js";
import { addRepoOption, examples } from "../common.js";
import { log, print } from "../output.js";
import { createCommandDiffSeam, parsePullRequestNumber } from "./approvals.js";
import { docsUrl } from "../../core/docs.js";

interface CommentOptions {
  pr?: number;
  repo?: string;
  diff?: string;
  diffMarkdown?: string;
  approvals: boolean;
  githubRepository?: string;
}

export function register(program: Command): void {
  const pr = program
    .command("pr")
    .description(`pull request integration: see ${docsUrl("github")}`)
    .addHelpText(
      "after",
      examples([
        ["strata pr comment", "in GitHub Actions: the sticky diff comment on the event's pull request"],
        [
          "strata pr comment --pr 42 --no-approvals",
          "from a terminal, the diff only (GITHUB_TOKEN and GITHUB_REPOSITORY set)",
        ],
      ]),
    );
  const comment = pr
    .command("comment")
    .description("create or update the pull request's sticky comment: the config diff and the approvals it needs")
    .addHelpText(
      "after",
      examples([
        ["strata pr comment", "in GitHub Actions: the event's pull request"],
        [
          "strata pr comment --pr 42 --github-repository acme/config --no-approvals",
          "from a terminal, diff only (GITHUB_TOKEN set)",
        ],
      ]),
    )
    .option("--pr <number>", "the pull request (default: the GitHub Actions event's)", parsePullRequestNumber)
    .option("--diff <file>", "the changes as `strata diff --format json` wrote them (instead of computing the diff)")
    .option("--diff-markdown <file>", "the diff as `strata diff --format markdown` wrote it (instead of rendering it)")
    .option("--no-approvals", "leave the approvals section out")
    .option("--github-repository <owner/name>", "the GitHub repository (default: GITHUB_REPOSITORY)");
  addRepoOption(comment);
  comment.action(async (opts: CommentOptions) => {
    const { api, env } = await connectGitHub({
      warn: log,
      ...(opts.githubRepository ? { repository: opts.githubRepository } : {}),
    });
    const number = await resolvePullRequestNumber(opts.pr, env);
    const seam = resolveDiffSeam(
      { ...(opts.diff ? { diff: opts.diff } : {}), ...(opts.diffMarkdown ? { diffMarkdown: opts.diffMarkdown } : {}) },
      createCommandDiffSeam(),
    );
    const result = await commentOnPullRequest({
      github: api,
      pullRequest: number,
      repoDir: opts.repo ?? process.cwd(),
      renderDiffMarkdown: seam.renderDiffMarkdown,
      ...(opts.approvals ? { computeChanges: seam.computeChanges } : {}),
    });
    print(`${result.action} ${result.comment.htmlUrl}`);
  });
}
