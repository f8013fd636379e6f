/**
 * For `push --require-approval`: is this commit something the approval workflow let through? Only a
 * commit on the default branch that a merged pull request produced, whose approvals satisfied the
 * rules as they stood on that pull request's base.
 */
import { StrataError } from "../../core/findings.js";
import type { ApprovalDecision } from "../../core/approvals/evaluate.js";
import type { GitHubApi, PullRequestInfo } from "../../io/github/api.js";
import { readGitSource } from "../../io/repo/git-head.js";
import { evaluatePullRequest, type ComputeApprovalChanges } from "./evaluate-pull-request.js";

export interface CommitApproved {
  approved: true;
  commit: string;
  /** For the snapshot's `source` (docs/distribution.md). */
  pullRequest: number;
  approvedBy: string[];
  emergency: boolean;
  decision: ApprovalDecision;
}

export type RefusalReason = "not-on-default-branch" | "no-merged-pull-request" | "insufficient-approvals";

export interface CommitRefused {
  approved: false;
  commit: string;
  reason: RefusalReason;
  message: string;
  pullRequest: number | null;
  decision: ApprovalDecision | null;
}

export interface CheckCommitApprovedOptions {
  github: GitHubApi;
  /** The full sha being pushed. */
  commit: string;
  repoDir: string;
  computeChanges: ComputeApprovalChanges;
}

/** The merged pull request that produced `commit` on `branch`: its merge/squash commit, or its head on a fast-forward. */
function findProducingPullRequest(
  pulls: readonly PullRequestInfo[],
  commit: string,
  branch: string,
): PullRequestInfo | null {
  const merged = pulls.filter((p) => p.merged && p.base.ref === branch);
  return merged.find((p) => p.mergeCommitSha === commit) ?? merged.find((p) => p.head.sha === commit) ?? null;
}

export async function checkCommitApproved(
  options: CheckCommitApprovedOptions,
): Promise<CommitApproved | CommitRefused> {
  const { github, commit } = options;
  const refuse = (
    reason: RefusalReason,
    message: string,
    pullRequest: number | null = null,
    decision: ApprovalDecision | null = null,
  ): CommitRefused => ({ approved: false, commit, reason, message, pullRequest, decision });

  const branch = await github.getDefaultBranch();
  if (!(await github.isCommitOnBranch(commit, branch))) {
    return refuse("not-on-default-branch", `commit ${commit.slice(0, 12)} is not on the default branch ${branch}`);
  }
  const pr = findProducingPullRequest(await github.listPullRequestsForCommit(commit), commit, branch);
  if (pr === null) {
    return refuse(
      "no-merged-pull-request",
      `commit ${commit.slice(0, 12)} did not come from a merged pull request into ${branch}`,
    );
  }
  // What landed: the merge or squash commit against its first parent; on a fast-forward, the pull
  // request's own range. Either way the rules are those of the pull request's base.
  const range =
    pr.mergeCommitSha === commit ? { base: `${commit}^1`, head: commit } : { base: pr.base.sha, head: commit };
  const evaluation = await evaluatePullRequest(pr, {
    github,
    repoDir: options.repoDir,
    computeChanges: options.computeChanges,
    range,
  });
  const { decision } = evaluation;
  if (!decision.met) {
    return refuse(
      "insufficient-approvals",
      `pull request #${pr.number} was merged without the approvals its changes need: ${decision.description}`,
      pr.number,
      decision,
    );
  }
  return {
    approved: true,
    commit,
    pullRequest: pr.number,
    approvedBy: decision.approvedBy,
    emergency: decision.emergency?.active ?? false,
    decision,
  };
}

/** As `checkCommitApproved`, throwing `approval-required` (exit 1) on a refusal: what push calls. */
export async function requireCommitApproved(options: CheckCommitApprovedOptions): Promise<CommitApproved> {
  const result = await checkCommitApproved(options);
  if (result.approved) return result;
  throw new StrataError("approval-required", result.message, {
    hint:
      result.reason === "insufficient-approvals"
        ? "push only what an approved pull request merged; see `strata approvals check --pr N`"
        : "push --require-approval publishes only commits that a merged, approved pull request put on the default branch",
  });
}

/**
 * `push --require-approval` from a working tree (docs/github.md): only its HEAD commit, clean, approved as
 * approvePush decides; uncommitted changes would publish something no pull request approved.
 */
export async function approveWorktreePush(options: {
  repoDir: string;
  warn?: (message: string) => void;
}): Promise<{ pullRequest: number; approvedBy: string[]; emergency: boolean }> {
  const git = await readGitSource(options.repoDir);
  if (!git.commit)
    throw new StrataError(
      "approval-required",
      "--require-approval needs a git commit to check, and this repository has none",
    );
  if (git.dirty) {
    throw new StrataError(
      "approval-required",
      `the working tree has uncommitted configuration changes; --require-approval publishes only the approved commit ${git.commit.slice(0, 12)}`,
      { hint: "push from a clean checkout of the merged commit" },
    );
  }
  return approvePush({ commit: git.commit, repoDir: options.repoDir, ...(options.warn ? { warn: options.warn } : {}) });
}

/**
 * The one call `push --require-approval` needs: connect with the environment's token, check the commit
 * with the linked diff, and return what goes into the snapshot's `source` (throws `approval-required`).
 */
export async function approvePush(options: {
  commit: string;
  repoDir: string;
  env?: NodeJS.ProcessEnv;
  warn?: (message: string) => void;
  /** Defaults to the diff engine (`createLinkedDiff`). */
  computeChanges?: ComputeApprovalChanges;
}): Promise<{ pullRequest: number; approvedBy: string[]; emergency: boolean }> {
  const [{ connectGitHub }, { createLinkedDiff }] = await Promise.all([
    import("./connect.js"),
    import("./diff-seam.js"),
  ]);
  const { api } = await connectGitHub({
    ...(options.env ? { env: options.env } : {}),
    ...(options.warn ? { warn: options.warn } : {}),
  });
  const approved = await requireCommitApproved({
    github: api,
    commit: options.commit,
    repoDir: options.repoDir,
    computeChanges: options.computeChanges ?? createLinkedDiff().computeChanges,
  });
  return { pullRequest: approved.pullRequest, approvedBy: approved.approvedBy, emergency: approved.emergency };
}
