/** Finding the config files that interpolate (`${…}`) without reading every file into node. */
import type { GitRepo } from "./repo.js";
import { runGitRaw, splitNul } from "./run.js";

/**
 * The files under schemas/ and environments/ (relative to the config root) at `commit` (null: the working
 * tree, untracked files included) whose text contains `${`. `git grep` scans the tree in C, so only the few
 * files that interpolate are read to build the reference graph.
 */
export async function findInterpolatingFiles(repo: GitRepo, commit: string | null): Promise<string[]> {
  const args = [
    "grep",
    "-z",
    "-l",
    "-F",
    "-I",
    "--no-color",
    ...(commit === null ? ["--untracked"] : []),
    "-e",
    "${",
    ...(commit === null ? [] : [commit]),
    "--",
    "schemas",
    "environments",
  ];
  const r = await runGitRaw(repo.dir, args);
  // 1: no match. Anything else (no such directory at that commit) also means none.
  if (r.exitCode !== 0) return [];
  const prefix = commit === null ? "" : `${commit}:`;
  return splitNul(r.stdout.toString("utf8")).map((p) => (p.startsWith(prefix) ? p.slice(prefix.length) : p));
}
