/**
 * `strata impact`'s report on the pull request that produced the version: a section of the pull request's
 * rollout comment (io/github/rollout-comment.ts), posted when GitHub is configured. Asked for explicitly
 * (`--pr`) without GitHub configured, that is an error; otherwise no GitHub means the report is only printed.
 */
import { StrataError } from "../../core/findings.js";
import { readGitHubEnvironment } from "../../io/github/env.js";
import { sectionKey, upsertRolloutSection } from "../../io/github/rollout-comment.js";
import type { StickyCommentResult } from "../../io/github/sticky.js";
import { connectGitHub } from "../approvals/connect.js";
import type { ImpactReport } from "./impact.js";

export type ImpactPost =
  { posted: true; pullRequest: number; result: StickyCommentResult } | { posted: false; why: string | null };

export async function postImpact(
  report: ImpactReport,
  markdown: string,
  options: { pr?: number | undefined; repository?: string | undefined; warn: (message: string) => void },
): Promise<ImpactPost> {
  if (readGitHubEnvironment().token === null) {
    if (options.pr !== undefined)
      throw new StrataError("unauthenticated", `cannot post to pull request #${options.pr}: GITHUB_TOKEN is not set`, {
        hint: "export GITHUB_TOKEN (and GITHUB_REPOSITORY), or leave --pr out to print the report only",
      });
    return { posted: false, why: null };
  }
  const pullRequest = options.pr ?? report.source.pullRequest;
  if (pullRequest === null)
    return {
      posted: false,
      why: `not posted: v${report.version}'s snapshot names no pull request (pass --pr N to post it to one)`,
    };
  const { api } = await connectGitHub({
    warn: options.warn,
    ...(options.repository ? { repository: options.repository } : {}),
  });
  const result = await upsertRolloutSection(
    api,
    pullRequest,
    sectionKey("impact", report.environment, report.service),
    markdown,
  );
  return { posted: true, pullRequest, result };
}
