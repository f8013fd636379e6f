/**
 * The pull request's rollout comment: what happened to the change after it merged, one section per
 * environment and kind (`strata impact`, `strata rollback --open-revert`), kept in one sticky comment of
 * its own (the review's diff-and-approvals comment is `strata pr comment`'s and is left alone). Writing one
 * section keeps the others: the staging impact stays when production's is added.
 */
import { composeStickyComment, sameCommentBody } from "../../core/approvals/comment.js";
import { redact } from "../../core/redact.js";
import type { GitHubApi } from "./api.js";
import type { StickyCommentResult } from "./sticky.js";

const ROLLOUT_MARKER = "<!-- strata:rollout -->";

const OPEN = /<!-- strata:section ([A-Za-z0-9._:/-]{1,200}) -->\n/g;
const CLOSE = "\n<!-- /strata:section -->";

/** A section's key: `impact:production`, `revert:production/checkout`. Names are strata's; anything else is cut. */
export function sectionKey(kind: string, environment: string, service: string | null = null): string {
  const clean = (s: string): string => s.replace(/[^A-Za-z0-9._-]/g, "_").slice(0, 90);
  return `${clean(kind)}:${clean(environment)}${service === null ? "" : `/${clean(service)}`}`;
}

/** The sections of an existing comment, in order (what is outside them is strata's heading: dropped). */
function parseSections(body: string): Map<string, string> {
  const out = new Map<string, string>();
  const text = body.replace(/\r\n/g, "\n");
  for (const m of text.matchAll(OPEN)) {
    const start = m.index + m[0].length;
    const end = text.indexOf(CLOSE, start);
    if (end < 0) break;
    out.set(m[1]!, text.slice(start, end));
  }
  return out;
}

/** Creates the rollout comment, or replaces one section of it (the others kept, in their order). */
export async function upsertRolloutSection(
  api: GitHubApi,
  pullRequest: number,
  key: string,
  markdown: string,
): Promise<StickyCommentResult> {
  const [login, comments] = await Promise.all([api.getOwnLogin(), api.listIssueComments(pullRequest)]);
  const me = login.toLowerCase();
  // Ours only when written by this token's login: a pasted marker is someone else's comment.
  const existing = comments.find((c) => c.login?.toLowerCase() === me && c.body.includes(ROLLOUT_MARKER)) ?? null;
  const sections = existing === null ? new Map<string, string>() : parseSections(existing.body);
  // The redactor is the second line of defence: the renderers never put a value in markdown.
  sections.set(key, redact(markdown.trimEnd()).replaceAll(CLOSE.trim(), ""));
  const body = composeStickyComment(
    ["## strata: after the merge", ...[...sections].map(([k, md]) => `<!-- strata:section ${k} -->\n${md}${CLOSE}`)],
    undefined,
    ROLLOUT_MARKER,
  );
  if (existing === null) return { action: "created", comment: await api.createIssueComment(pullRequest, body) };
  if (sameCommentBody(existing.body, body)) return { action: "unchanged", comment: existing };
  return { action: "updated", comment: await api.updateIssueComment(existing.id, body) };
}
