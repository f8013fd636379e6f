/**
 * A revert commit of one commit, on a new branch pushed to `origin`, made in a temporary worktree from the
 * remote's default branch: the user's working tree, index and branches are never touched.
 */
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StrataError } from "../../core/findings.js";
import { runGit, runGitRaw } from "./run.js";

export interface RevertBranchRequest {
  /** A directory of the repository (its clone with `origin`). */
  repoDir: string;
  commit: string;
  /** The remote's branch the revert applies to (the default branch). */
  base: string;
  /** The new branch, pushed to origin. */
  branch: string;
  /** The commit message's body, after git's own "This reverts commit …". */
  why: string;
}

export interface RevertBranch {
  branch: string;
  /** The revert commit. */
  commit: string;
  /** The subject of the reverted commit. */
  subject: string;
}

async function git(cwd: string, args: string[], input?: string) {
  return runGitRaw(cwd, args, input);
}

export async function pushRevertBranch(request: RevertBranchRequest): Promise<RevertBranch> {
  const { repoDir, commit, base, branch } = request;
  const origin = await git(repoDir, ["remote", "get-url", "origin"]);
  if (origin.exitCode !== 0)
    throw new StrataError("invalid-config", `${repoDir} has no remote "origin" to push the revert branch to`, {
      hint: "run it in a clone of the configuration repository",
    });
  const fetched = await git(repoDir, [
    "fetch",
    "--quiet",
    "--no-tags",
    "origin",
    `+refs/heads/${base}:refs/strata/revert-base`,
  ]);
  if (fetched.exitCode !== 0)
    throw new StrataError("unreachable", `cannot fetch ${base} from origin: ${fetched.stderr.trim()}`);
  if ((await git(repoDir, ["cat-file", "-e", `${commit}^{commit}`])).exitCode !== 0)
    throw new StrataError(
      "unknown-ref",
      `commit ${commit.slice(0, 12)}, which the rolled-back version was built from, is not in this repository or on origin's ${base}`,
      { hint: "fetch the branch it was pushed from (`git fetch origin <branch>`), or revert it by hand" },
    );
  const parents = (await runGit(repoDir, ["rev-list", "--parents", "-n", "1", commit])).trim().split(" ").length - 1;
  const subject = (await runGit(repoDir, ["log", "-1", "--format=%s", commit])).trim();

  const dir = await mkdtemp(join(tmpdir(), "strata-revert-"));
  const worktree = join(dir, "tree");
  try {
    await runGit(repoDir, ["worktree", "add", "--quiet", "--detach", worktree, "refs/strata/revert-base"]);
    const reverted = await git(worktree, ["revert", "--no-commit", ...(parents > 1 ? ["-m", "1"] : []), commit]);
    if (reverted.exitCode !== 0) {
      const conflicted = (await git(worktree, ["diff", "--name-only", "--diff-filter=U"])).stdout.toString().trim();
      await git(worktree, ["revert", "--abort"]);
      throw new StrataError(
        "revert-conflict",
        `the revert of ${commit.slice(0, 12)} ("${subject}") conflicts with origin's ${base}${conflicted ? ` in ${conflicted.split("\n").join(", ")}` : ""}`,
        { hint: "a later change touched the same lines: revert it by hand (the rollback is published)" },
      );
    }
    if ((await git(worktree, ["diff", "--cached", "--quiet"])).exitCode === 0)
      throw new StrataError(
        "revert-conflict",
        `reverting ${commit.slice(0, 12)} ("${subject}") changes nothing on origin's ${base}: it was reverted already`,
      );
    const message = `Revert "${subject}"\n\nThis reverts commit ${commit}.\n\n${request.why}\n`;
    const committed = await git(worktree, ["commit", "--quiet", "--no-verify", "-F", "-"], message);
    if (committed.exitCode !== 0)
      throw new StrataError("invalid-config", `git could not commit the revert: ${committed.stderr.trim()}`, {
        hint: "set user.name and user.email (git config), or GIT_AUTHOR_NAME / GIT_AUTHOR_EMAIL",
      });
    const sha = (await runGit(worktree, ["rev-parse", "HEAD"])).trim();
    const pushed = await git(worktree, ["push", "--quiet", "origin", `${sha}:refs/heads/${branch}`]);
    if (pushed.exitCode !== 0)
      throw new StrataError("push-failed", `cannot push the branch ${branch} to origin: ${pushed.stderr.trim()}`, {
        hint: "a branch of that name may exist already (an earlier revert): delete it or merge its pull request",
      });
    return { branch, commit: sha, subject };
  } finally {
    await git(repoDir, ["worktree", "remove", "--force", worktree]);
    await git(repoDir, ["update-ref", "-d", "refs/strata/revert-base"]);
    await rm(dir, { recursive: true, force: true });
  }
}
