/**
 * Git stays the truth: after a rollback the repository still holds the change the endpoint no longer serves.
 * This opens the pull request that reverts it (the commit the rolled-back version was built from, its signed
 * snapshot's `source.commit`), and says on the original pull request what happened and where the revert is.
 *
 * Two callers: `strata rollback --open-revert` (openRevert, after the rollback it published) and `strata
 * serve` when its rollout loop rolled a version back (src/server/rollouts/revert-pr.ts, which runs the three
 * steps one by one so that a retry never repeats a step that succeeded).
 */
import { StrataError } from "../../core/findings.js";
import type { RolloutStatusDocument, Snapshot } from "../../core/protocol/index.js";
import type { GitHubApi } from "../../io/github/api.js";
import { sectionKey, upsertRolloutSection } from "../../io/github/rollout-comment.js";
import { pushRevertBranch } from "../../io/git/revert.js";
import { visible } from "./impact-render.js";

export interface OpenRevertOptions {
  github: GitHubApi;
  repoDir: string;
  environment: string;
  /** The version rolled back (verified), whose commit is reverted. */
  rolledBack: Snapshot;
  /** The version whose content the rollback republished, and the new version that carries it. */
  to: number;
  published: number;
  /** The endpoint's rollout status, for the decision that caused the rollback (when it was one). */
  rollout: Pick<RolloutStatusDocument, "state" | "decisions"> | null;
}

export interface OpenRevertResult {
  revert: { number: number; url: string; branch: string; commit: string };
  /** The pull request the reverted commit came from, when known, and the comment that now says so. */
  original: { number: number; comment: string } | null;
}

/** What the revert is of and why, as the commit message, the pull request and the comment say it. */
export interface RevertRequest {
  repoDir: string;
  environment: string;
  /** The service whose chain was rolled back (a service's rollout), or null for the environment's. */
  service?: string | null;
  /** The version rolled back (verified), whose commit is reverted. */
  rolledBack: Snapshot;
  /** One sentence without its full stop: who rolled back what, to what. */
  what: string;
  /** The rollout decision's reason (metric, values, threshold, samples, interval), or null for an operator's. */
  decision: string | null;
}

/** The revert branch on origin (step 1). */
interface PushedRevert {
  branch: string;
  base: string;
  commit: string;
  subject: string;
}

/** The revert pull request (step 2), and the pull request the reverted commit came from, when known. */
interface OpenedRevert {
  number: number;
  url: string;
  original: number | null;
}

/** The rollout decision that rolled this version back, in one line (metric, value, threshold, samples, interval). */
export function decisionReason(
  rollout: Pick<RolloutStatusDocument, "state" | "decisions"> | null,
  version: number,
): string | null {
  if (rollout?.state?.candidate.version !== version) return null;
  const record = rollout.decisions.find((d) => d.action === "rollback" || d.action === "abort");
  if (record === undefined) return null;
  const breaches = (record.breaches ?? []).map((b) => b.detail);
  return [record.reason, ...breaches].join("; ");
}

/** The branch a version's revert is pushed as: `strata/revert-<env>-v<N>`. */
function revertBranchName(environment: string, version: number): string {
  return `strata/revert-${environment.replace(/[^A-Za-z0-9._-]/g, "-")}-v${version}`;
}

/** Step 1: the revert commit of the rolled-back version's commit, on a new branch pushed to origin. */
export async function pushRevert(github: GitHubApi, request: RevertRequest): Promise<PushedRevert> {
  const { rolledBack, environment } = request;
  const commit = rolledBack.source.commit;
  if (commit === null || !/^[0-9a-f]{40}$/.test(commit))
    throw new StrataError("unknown-ref", `${environment} v${rolledBack.version} names no commit it was built from`, {
      hint: "it was published without a commit (e.g. from outside a git repository): revert the change by hand",
    });
  if (rolledBack.rollbackOf !== null)
    throw new StrataError(
      "invalid-argument",
      `${environment} v${rolledBack.version} is itself a rollback (to v${rolledBack.rollbackOf}): there is no merge to revert`,
    );
  const base = await github.getDefaultBranch();
  const branch = revertBranchName(
    request.service ? `${environment}-${request.service}` : environment,
    rolledBack.version,
  );
  const reverted = await pushRevertBranch({
    repoDir: request.repoDir,
    commit,
    base,
    branch,
    why: `${request.what}.${request.decision === null ? "" : `\nWhy: ${request.decision}`}`,
  });
  return { branch, base, commit: reverted.commit, subject: reverted.subject };
}

/** Step 2: the pull request of the revert branch. */
export async function openRevertPullRequest(
  github: GitHubApi,
  request: RevertRequest,
  pushed: PushedRevert,
): Promise<OpenedRevert> {
  const commit = request.rolledBack.source.commit!;
  const original =
    request.rolledBack.source.pullRequest ??
    (await github.listPullRequestsForCommit(commit)).find((p) => p.merged)?.number ??
    null;
  const body = [
    `${request.what}.`,
    "",
    request.decision === null ? "The rollback was an operator's decision." : `Why: ${request.decision}`,
    "",
    `This reverts commit ${commit}${original === null ? "" : ` of #${original}`}, so that the repository says what the endpoint serves. Merge it to keep the change out; close it and push again to bring the change back.`,
  ].join("\n");
  const pr = await github.createPullRequest({
    title: `Revert "${pushed.subject}"`,
    head: pushed.branch,
    base: pushed.base,
    body,
  });
  return { number: pr.number, url: pr.htmlUrl, original };
}

/** Step 3: the original pull request's rollout comment says what happened (its `revert:<env>` section). */
export async function commentOnOriginal(
  github: GitHubApi,
  request: RevertRequest,
  pushed: PushedRevert,
  opened: OpenedRevert & { original: number },
): Promise<string> {
  const { environment, rolledBack, decision } = request;
  const service = request.service ?? null;
  const md = [
    `### ❌ Rolled back: <code>${visible(service === null ? environment : `${environment}/${service}`)}</code> v${rolledBack.version}`,
    "",
    `${escapeMd(request.what)}.`,
    decision === null ? "The rollback was an operator's decision." : `**Why:** ${escapeMd(decision)}`,
    "",
    `Revert pull request: #${opened.number} (branch \`${pushed.branch}\`).`,
  ].join("\n");
  const posted = await upsertRolloutSection(github, opened.original, sectionKey("revert", environment, service), md);
  return posted.comment.htmlUrl;
}

/** `strata rollback --open-revert`: the three steps after the rollback `published` (content of `to`). */
export async function openRevert(options: OpenRevertOptions): Promise<OpenRevertResult> {
  const { github, rolledBack, environment } = options;
  const request: RevertRequest = {
    repoDir: options.repoDir,
    environment,
    rolledBack,
    what: `strata rolled back ${environment} v${rolledBack.version} (published as v${options.published} with the content of v${options.to})`,
    decision: decisionReason(options.rollout, rolledBack.version),
  };
  const pushed = await pushRevert(github, request);
  const opened = await openRevertPullRequest(github, request, pushed);
  const comment =
    opened.original === null
      ? null
      : {
          number: opened.original,
          comment: await commentOnOriginal(github, request, pushed, { ...opened, original: opened.original }),
        };
  return {
    revert: { number: opened.number, url: opened.url, branch: pushed.branch, commit: pushed.commit },
    original: comment,
  };
}

function escapeMd(text: string): string {
  return visible(text).replace(/[&<>|\\`*_[\]]/g, (c) => `&#${c.charCodeAt(0)};`);
}
