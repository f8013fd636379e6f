/** Finding which config files interpolate given namespaces, without reading every file into node. */
import type { GitRepo } from "./repo.js";
import { runGitRaw, splitNul } from "./run.js";

/**
 * The files (relative to the config root) at `commit` (null: the working tree, untracked files included)
 * whose text contains a reference `${<namespace>.` to one of `namespaces`. `git grep` scans the tree in C;
 * over-matching (an escaped `$${`) only costs a little extra resolution.
 */
export async function findReferencingFiles(repo: GitRepo, commit: string | null, namespaces: Iterable<string>): Promise<string[]> {
  const patterns = [...namespaces].flatMap((ns) => ["-e", `\${${ns}.`]);
  if (patterns.length === 0) return [];
  const args = ["grep", "-z", "-l", "-F", "--no-color", ...(commit === null ? ["--untracked"] : []), ...patterns, ...(commit === null ? [] : [commit]), "--", "schemas", "environments"];
  const r = await runGitRaw(repo.dir, args);
  // 1: no match. Anything else (a missing pathspec directory in an odd repository) means "none found".
  if (r.exitCode !== 0) return [];
  const prefix = commit === null ? "" : `${commit}:`;
  return splitNul(r.stdout.toString("utf8")).map((p) => (p.startsWith(prefix) ? p.slice(prefix.length) : p));
}
