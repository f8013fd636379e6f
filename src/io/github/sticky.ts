/**
 * One comment per pull request that strata keeps up to date. It is strata's own when it carries the
 * marker AND was written by the token's login: a marker alone could be pasted by anyone, and another
 * bot's comment must never be overwritten.
 */
import { composeStickyComment, sameCommentBody, STICKY_MARKER } from "../../core/approvals/comment.js";
import { redact } from "../../core/redact.js";
import type { GitHubApi, IssueComment } from "./api.js";

export interface StickyCommentResult {
  action: "created" | "updated" | "unchanged";
  comment: IssueComment;
}

function findStickyComment(
  comments: readonly IssueComment[],
  login: string,
  marker = STICKY_MARKER,
): IssueComment | null {
  const me = login.toLowerCase();
  return comments.find((c) => c.login?.toLowerCase() === me && c.body.includes(marker)) ?? null;
}

/**
 * Creates or updates the sticky comment. `body` is markdown (the diff, the approvals); the marker is
 * added and the whole fitted under GitHub's limit here. Unchanged bodies are not re-posted, so
 * re-runs make no notification noise.
 */
export async function upsertStickyComment(
  api: GitHubApi,
  pullRequest: number,
  body: string | readonly string[],
  marker = STICKY_MARKER,
): Promise<StickyCommentResult> {
  // The renderers never put a value of a sensitive key in markdown; the redactor is the second line,
  // for any decrypted value that reached a string by another path.
  const text = composeStickyComment((typeof body === "string" ? [body] : body).map(redact), undefined, marker);
  const [login, comments] = await Promise.all([api.getOwnLogin(), api.listIssueComments(pullRequest)]);
  const existing = findStickyComment(comments, login, marker);
  if (existing === null) return { action: "created", comment: await api.createIssueComment(pullRequest, text) };
  if (sameCommentBody(existing.body, text)) return { action: "unchanged", comment: existing };
  return { action: "updated", comment: await api.updateIssueComment(existing.id, text) };
}
