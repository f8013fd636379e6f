import type { Command } from "commander";
import { commentOnPullRequest } from "../../app/approvals/comment.js";
import { connectGitHub, resolvePullRequestNumber } from "../../app/approvals/connect.js";
import { resolveDiffSeam } from "../../app/approvals/diff-seam.js";
import { log, print } from "../output.js";
import { attachAction, attachCommand } from "../spec.js";
import { prCommand, prCommentCommand } from "../table.js";
import { createCommandDiffSeam } from "./approvals.js";

export function register(program: Command): void {
  attachCommand(program, prCommand);
  attachAction(program, prCommentCommand, async (opts) => {
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
