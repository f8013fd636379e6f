/** Walking first-parent history for `strata log`: each commit with the config files it changed. */
import { parseRawDiff, type RawChange } from "./changes.js";
import type { GitRepo } from "./repo.js";
import { runGit } from "./run.js";

export interface CommitInfo {
  sha: string;
  /** The first parent, or null for a root commit. */
  parent: string | null;
  /** All parents: more than one for a merge. */
  parents: string[];
  author: string;
  email: string;
  /** ISO 8601 author date. */
  date: string;
  subject: string;
  body: string;
  /** The config files changed against the first parent, with their new blobs. */
  changes: RawChange[];
}

/**
 * The commits reachable from `head` along first parents that change any of `paths` (pathspecs relative to
 * the config root), oldest first (without those `exclude` reaches). First parents only: on a main branch, a merged pull request is one change,
 * and its merge commit carries the pull request number.
 */
export async function readHistory(
  repo: GitRepo,
  head: string,
  paths: readonly string[],
  options: { maxCount?: number; exclude?: string } = {},
): Promise<CommitInfo[]> {
  const args = [
    "log",
    "--first-parent",
    "--diff-merges=first-parent",
    "--reverse",
    "--format=%x1e%H%x1f%P%x1f%an%x1f%ae%x1f%aI%x1f%s%x1f%b%x1f",
    "--raw",
    "-z",
    "--no-abbrev",
    "-M",
    "--relative",
  ];
  if (options.maxCount !== undefined) args.push(`--max-count=${options.maxCount}`);
  // `exclude`: stop at commits it reaches (the commits a merge brought: `^first-parent second-parent`).
  args.push(
    head,
    ...(options.exclude === undefined ? [] : [`^${options.exclude}`]),
    "--",
    ...(paths.length > 0 ? paths : ["."]),
  );
  const out = await runGit(repo.dir, args);
  const commits: CommitInfo[] = [];
  for (const record of out.split("\x1e")) {
    if (record === "") continue;
    const end = record.lastIndexOf("\x1f");
    const [sha = "", parents = "", author = "", email = "", date = "", subject = "", body = ""] = record
      .slice(0, end)
      .split("\x1f");
    const raw = record.slice(end + 1).replace(/^[\0\n]+/, "");
    const all = parents.split(" ").filter((p) => p !== "");
    commits.push({
      sha,
      parent: all[0] ?? null,
      parents: all,
      author,
      email,
      date,
      subject,
      body: body.trim(),
      changes: parseRawDiff(raw),
    });
  }
  return commits;
}

/** The commits on `head`'s first-parent chain that `exclude` does not reach, newest first. */
export async function readFirstParentChain(repo: GitRepo, head: string, exclude: string): Promise<string[]> {
  const out = await runGit(repo.dir, ["rev-list", "--first-parent", head, `^${exclude}`, "--"]);
  return out.split("\n").filter((l) => l !== "");
}
