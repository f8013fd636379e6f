/**
 * The shared core of every approvals use case: one pull request, its rules as they stand on its base,
 * the changes it makes, the reviews, the teams -> a decision.
 */
import type { ApprovalConfig, EnvironmentFlags } from "../../core/approvals/config.js";
import { decideApprovals, type ApprovalDecision } from "../../core/approvals/evaluate.js";
import { withEnvironmentFlags } from "../../core/approvals/from-diff.js";
import { matchApprovalRules, requiredTeams, type ApprovalChange } from "../../core/approvals/match.js";
import { isStrataError, type Finding } from "../../core/findings.js";
import { SETTINGS_FILE } from "../../core/settings/settings.js";
import type { GitHubApi, PullRequestInfo } from "../../io/github/api.js";
import { readApprovalPolicy } from "./read-policy.js";

/** What the diff must answer for approvals: the changes between two commits. */
export interface ChangesRequest {
  repoDir: string;
  /** Compare from here (a sha or rev, e.g. `<sha>^1`); the diff takes the merge-base with `head` (docs/diff.md). */
  base: string;
  head: string;
}

/**
 * The diff use case, injected (docs/diff.md -> `approvalChangesFromDiff`). Each change's `approvers` should
 * be the union of the base's and the head's `x-approvers`, so a pull request cannot drop an owner from
 * the schema to avoid that owner's review.
 */
export type ComputeApprovalChanges = (request: ChangesRequest) => Promise<ApprovalChange[]>;

export const STATUS_CONTEXT = "strata/approvals";

export interface PullRequestEvaluation {
  pullRequest: PullRequestInfo;
  /** The commit the rules were read from: the pull request's base, never its head. */
  rulesRef: string;
  config: ApprovalConfig;
  environments: Record<string, EnvironmentFlags>;
  /** Problems in the base's strata.yaml: a gate whose rules cannot be read is not met. */
  findings: Finding[];
  changes: ApprovalChange[];
  decision: ApprovalDecision;
  /** Teams that could not be read (only when lenient); their members counted as nobody. */
  unreadableTeams: { team: string; message: string; hint: string | null }[];
}

export interface EvaluateOptions {
  github: GitHubApi;
  repoDir: string;
  computeChanges: ComputeApprovalChanges;
  /** Diff range; default the pull request's base and head commits. */
  range?: { base: string; head: string };
  /**
   * Carry on when a team cannot be read (the PR comment, written with a token that may not read
   * teams); the approvals gate itself is strict.
   */
  lenientTeams?: boolean;
}

export async function evaluatePullRequest(
  pullRequest: PullRequestInfo,
  options: EvaluateOptions,
): Promise<PullRequestEvaluation> {
  const { github } = options;
  const rulesRef = pullRequest.base.sha;
  const [rulesText, reviews] = await Promise.all([
    github.readFile(SETTINGS_FILE, rulesRef),
    github.listReviews(pullRequest.number),
  ]);
  const policy = await readApprovalPolicy(rulesText, `${SETTINGS_FILE} on ${pullRequest.base.ref}`);
  const range = options.range ?? { base: pullRequest.base.sha, head: pullRequest.head.sha };
  const changes = withEnvironmentFlags(
    await options.computeChanges({ repoDir: options.repoDir, ...range }),
    policy.environments,
  );
  const matched = matchApprovalRules(policy.config, changes);

  const teams: Record<string, string[]> = {};
  const unreadableTeams: PullRequestEvaluation["unreadableTeams"] = [];
  await Promise.all(
    requiredTeams(matched).map(async (team) => {
      try {
        teams[team] = await github.listTeamMembers(team);
      } catch (error) {
        if (!options.lenientTeams || !isStrataError(error) || error.code !== "access-denied") throw error;
        unreadableTeams.push({ team, message: error.message, hint: error.hint });
        teams[team] = [];
      }
    }),
  );

  const decision = decideApprovals(policy.config, matched, reviews, {
    author: pullRequest.author,
    headSha: pullRequest.head.sha,
    labels: pullRequest.labels,
    teams,
  });
  const invalid = policy.findings.some((f) => f.severity === "error");
  if (invalid) {
    // Rules that do not parse cannot approve anything.
    decision.met = false;
    decision.state = "failure";
    decision.description = `invalid approvals in ${SETTINGS_FILE} on ${pullRequest.base.ref}`;
  }
  return {
    pullRequest,
    rulesRef,
    config: policy.config,
    environments: policy.environments,
    findings: policy.findings,
    changes,
    decision,
    unreadableTeams,
  };
}
