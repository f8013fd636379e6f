/** `strata pr comment`: the diff and the approvals it needs, as the pull request's one sticky comment. */
import { renderApprovalsMarkdown } from "../../core/approvals/markdown.js";
import type { GitHubApi } from "../../io/github/api.js";
import { upsertStickyComment, type StickyCommentResult } from "../../io/github/sticky.js";
import {
  evaluatePullRequest,
  type ChangesRequest,
  type ComputeApprovalChanges,
  type PullRequestEvaluation,
} from "./evaluate-pull-request.js";

/** The diff's markdown renderer (docs/diff.md), injected: it must never put a secret value in its output. */
export type RenderDiffMarkdown = (request: ChangesRequest) => Promise<string>;

export interface CommentOnPullRequestOptions {
  github: GitHubApi;
  pullRequest: number;
  repoDir: string;
  renderDiffMarkdown: RenderDiffMarkdown;
  /** For the approvals section; omitted -> the comment carries the diff only. */
  computeChanges?: ComputeApprovalChanges;
}

export interface CommentResult extends StickyCommentResult {
  evaluation: PullRequestEvaluation | null;
}

export async function commentOnPullRequest(options: CommentOnPullRequestOptions): Promise<CommentResult> {
  const { github } = options;
  const pr = await github.getPullRequest(options.pullRequest);
  const request: ChangesRequest = { repoDir: options.repoDir, base: pr.base.sha, head: pr.head.sha };
  const [diff, evaluation] = await Promise.all([
    options.renderDiffMarkdown(request),
    options.computeChanges
      ? evaluatePullRequest(pr, {
          github,
          repoDir: options.repoDir,
          computeChanges: options.computeChanges,
          lenientTeams: true,
        })
      : Promise.resolve(null),
  ]);
  // Approvals first: they are short, and the diff is what a cut may shorten.
  const sections: string[] = [];
  if (evaluation) sections.push(renderCommentApprovals(evaluation));
  sections.push(diff);
  const result = await upsertStickyComment(github, pr.number, sections);
  return { ...result, evaluation };
}

function renderCommentApprovals(e: PullRequestEvaluation): string {
  let md = renderApprovalsMarkdown(e.decision);
  if (e.unreadableTeams.length > 0) {
    md += `\n_Team membership of ${e.unreadableTeams.map((t) => t.team).join(", ")} is not readable with this job's token, so approvals from them are not shown here; the \`strata/approvals\` status is authoritative._\n`;
  }
  if (e.findings.some((f) => f.severity === "error"))
    md += `\n_The approval rules in strata.yaml on the base branch are invalid: nothing can be approved until they are fixed._\n`;
  return md;
}
