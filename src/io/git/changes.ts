/** Which config files differ between two commits, or between a commit and the working tree. */
import type { ChangedFile, FileChangeStatus } from "../../core/diff/changes.js";
import type { GitRepo } from "./repo.js";
import { runGit, splitNul } from "./run.js";

const STATUS: Record<string, FileChangeStatus> = { A: "added", D: "deleted", M: "modified", R: "renamed", C: "added", T: "type-changed" };

/** Parses `git diff --raw -z` output (paths relative to the config root thanks to `--relative`). */
export function parseRawDiff(out: string): ChangedFile[] {
  const parts = splitNul(out);
  const changes: ChangedFile[] = [];
  for (let i = 0; i < parts.length; ) {
    const meta = parts[i++] ?? "";
    const letter = meta.split(" ").at(-1)?.charAt(0) ?? "M";
    const status = STATUS[letter] ?? "modified";
    if (letter === "R" || letter === "C") {
      const from = parts[i++] ?? "";
      const to = parts[i++] ?? "";
      changes.push({ status, path: to, oldPath: letter === "R" ? from : null });
    } else {
      changes.push({ status, path: parts[i++] ?? "", oldPath: null });
    }
  }
  return changes;
}

/**
 * The changed files between `base` and `head` (a commit, or null for the working tree, untracked files
 * included), with rename detection so that a renamed environment or namespace shows as such.
 */
export async function readChangedFiles(repo: GitRepo, base: string, head: string | null): Promise<ChangedFile[]> {
  // `--relative` keeps only the config root's subtree and makes paths relative to it.
  const args = ["-c", "diff.renameLimit=10000", "diff", "--raw", "-z", "--no-abbrev", "-M", "--relative", "--no-ext-diff", "--ignore-submodules"];
  const out = await runGit(repo.dir, head === null ? [...args, base, "--"] : [...args, base, head, "--"]);
  const changes = parseRawDiff(out);
  if (head === null) {
    const untracked = splitNul(await runGit(repo.dir, ["ls-files", "-z", "--others", "--exclude-standard"]));
    for (const path of untracked) changes.push({ status: "added", path, oldPath: null });
  }
  return changes;
}
