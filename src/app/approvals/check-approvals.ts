/** `strata approvals check`: evaluate a pull request's approvals and say so on its head commit. */
import { StrataError } from "../../core/findings.js";
import type { CommitStatus, GitHubApi } from "../../io/github/api.js";
import {
  evaluatePullRequest,
  STATUS_CONTEXT,
  type ComputeApprovalChanges,
  type PullRequestEvaluation,
} from "./evaluate-pull-request.js";

export interface CheckApprovalsOptions {
  github: GitHubApi;
  pullRequest: number;
  repoDir: string;
  computeChanges: ComputeApprovalChanges;
  /** Set the `strata/approvals` commit status (default true). */
  setStatus?: boolean;
  /** Link of the status, e.g. the Actions run. */
  targetUrl?: string | null;
  /** Another commit that gets the same status: a merge queue's commit (its required checks must be there). */
  alsoStatusOn?: string | null;
}

export interface ApprovalsReport extends PullRequestEvaluation {
  repository: string;
  /** The status set on the head commit, or null when not asked to. */
  status: CommitStatus | null;
  /** Files of the pull request that can change the gate itself (strata.yaml, workflows). */
  gateFilesChanged: string[];
}

const GATE_FILES = /^(?:strata\.yaml|\.github\/|action\.ya?ml$|CODEOWNERS$|docs\/CODEOWNERS$)/;

export async function checkApprovals(options: CheckApprovalsOptions): Promise<ApprovalsReport> {
  const { github } = options;
  const pr = await github.getPullRequest(options.pullRequest);
  const setStatus = options.setStatus ?? true;
  const statusCommits = [pr.head.sha, ...(options.alsoStatusOn ? [options.alsoStatusOn] : [])];
  const status = (state: CommitStatus["state"], description: string): CommitStatus => ({
    state,
    context: STATUS_CONTEXT,
    description,
    targetUrl: options.targetUrl ?? null,
  });

  let evaluation: PullRequestEvaluation;
  try {
    evaluation = await evaluatePullRequest(pr, options);
  } catch (error) {
    // A gate that could not decide says so on the commit rather than leaving an old green status.
    if (setStatus) {
      const description = error instanceof StrataError ? error.message : "strata could not evaluate approvals";
      for (const sha of statusCommits)
        await github
          .setCommitStatus(
            sha,
            status("error", description.length > 140 ? `${description.slice(0, 139)}…` : description),
          )
          .catch(() => undefined);
    }
    throw error;
  }
  const files = await github.listChangedFiles(pr.number);
  const gateFilesChanged = files.filter((f) => GATE_FILES.test(f));
  const { decision } = evaluation;
  const commitStatus = setStatus ? status(decision.state, decision.description) : null;
  if (commitStatus) for (const sha of statusCommits) await github.setCommitStatus(sha, commitStatus);
  return {
    ...evaluation,
    repository: `${github.repository.owner}/${github.repository.repo}`,
    status: commitStatus,
    gateFilesChanged,
  };
}
