/**
 * Which repository a command acts on: `--repo DIR` (or the working directory) up to the nearest
 * strata.yaml, and its files on disk. The commands ask here rather than in src/io (cli -> app -> io).
 */
import type { RepoFiles } from "../core/source.js";
import { createWorktreeFiles, findConfigRoot, findRepositoryRoot } from "../io/repo/worktree.js";

/** The repository root above `dir` and its working-tree files; `missing-repository` when there is none. */
export function openWorktree(dir: string): { root: string; files: RepoFiles } {
  const root = findRepositoryRoot(dir);
  return { root, files: createWorktreeFiles(root) };
}

/**
 * For the commands that read commits (`diff`, `log`): the repository root above `dir`, or `dir` itself
 * when no strata.yaml is found (the configuration may be deleted in the worktree yet present in commits).
 */
export function locateCommitsRoot(dir: string): string {
  return findConfigRoot(dir);
}
