/**
 * `strata rollback --open-revert`: git stays the truth. After a rollback the repository still holds the change
 * the endpoint no longer serves; this opens the pull request that reverts it (the commit the rolled-back
 * version was built from, its snapshot's `source.commit`), and says on the original pull request what
 * happened and where the revert is.
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
  rollout: RolloutStatusDocument | null;
}

export interface OpenRevertResult {
  revert: { number: number; url: string; branch: string; commit: string };
  /** The pull request the reverted commit came from, when known, and the comment that now says so. */
  original: { number: number; comment: string } | null;
}

/** The rollout decision that rolled this version back, in one line (metric, value, threshold, samples, interval). */
function decisionReason(rollout: RolloutStatusDocument | null, version: number): string | null {
  if (rollout?.state?.candidate.version !== version) return null;
  const record = rollout.decisions.find((d) => d.action === "rollback" || d.action === "abort");
  if (record === undefined) return null;
  const breaches = (record.breaches ?? []).map((b) => b.detail);
  return [record.reason, ...breaches].join("; ");
}

export async function openRevert(options: OpenRevertOptions): Promise<OpenRevertResult> {
  const { github, rolledBack, environment } = options;
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
  const decision = decisionReason(options.rollout, rolledBack.version);
  const what = `strata rolled back ${environment} v${rolledBack.version} (published as v${options.published} with the content of v${options.to})`;
  const base = await github.getDefaultBranch();
  const branch = `strata/revert-${environment.replace(/[^A-Za-z0-9._-]/g, "-")}-v${rolledBack.version}`;
  const reverted = await pushRevertBranch({
    repoDir: options.repoDir,
    commit,
    base,
    branch,
    why: `${what}.${decision === null ? "" : `\nWhy: ${decision}`}`,
  });

  const original =
    rolledBack.source.pullRequest ??
    (await github.listPullRequestsForCommit(commit)).find((p) => p.merged)?.number ??
    null;
  const body = [
    `${what}.`,
    "",
    decision === null ? "The rollback was an operator's decision." : `Why: ${decision}`,
    "",
    `This reverts commit ${commit}${original === null ? "" : ` of #${original}`}, so that the repository says what the endpoint serves. Merge it to keep the change out; close it and push again to bring the change back.`,
  ].join("\n");
  const pr = await github.createPullRequest({ title: `Revert "${reverted.subject}"`, head: branch, base, body });

  let comment: OpenRevertResult["original"] = null;
  if (original !== null) {
    const md = [
      `### ❌ Rolled back: <code>${visible(environment)}</code> v${rolledBack.version}`,
      "",
      `${what}.`,
      decision === null ? "The rollback was an operator's decision." : `**Why:** ${escapeMd(decision)}`,
      "",
      `Revert pull request: #${pr.number} (branch \`${branch}\`).`,
    ].join("\n");
    const posted = await upsertRolloutSection(github, original, sectionKey("revert", environment), md);
    comment = { number: original, comment: posted.comment.htmlUrl };
  }
  return { revert: { number: pr.number, url: pr.htmlUrl, branch, commit: reverted.commit }, original: comment };
}

function escapeMd(text: string): string {
  return visible(text).replace(/[&<>|\\`*_[\]]/g, (c) => `&#${c.charCodeAt(0)};`);
}
