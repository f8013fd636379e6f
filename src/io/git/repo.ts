/**
 * A git repository opened for reading commits: where its work tree is, where the config repository sits in
 * it (the config may live in a subdirectory of a larger repository), and ref resolution with the failures a
 * user can act on (`unknown-ref`, `shallow-clone`).
 */
import { readFile } from "node:fs/promises";
import { resolve } from "node:path";
import { StrataError } from "../../core/findings.js";
import { createBlobReader, type BlobReader } from "./cat-file.js";
import { runGit, runGitRaw } from "./run.js";

export interface GitRepo {
  /** The directory strata was pointed at (the config repository root). */
  readonly dir: string;
  /** Absolute path of the git work tree root. */
  readonly top: string;
  /** The config root's path inside the git tree: "" or "config/" (with the trailing slash). */
  readonly prefix: string;
  readonly shallow: boolean;
  readonly blobs: BlobReader;
  close(): void;
}

export const SHALLOW_HINT =
  "fetch more history: in GitHub Actions set `fetch-depth: 2` (pull request merge commits) or `fetch-depth: 0` on actions/checkout, or run `git fetch --deepen=50` / `git fetch --unshallow`";

export async function openGitRepo(dir: string): Promise<GitRepo> {
  const abs = resolve(dir);
  const r = await runGitRaw(abs, ["rev-parse", "--show-toplevel", "--show-prefix", "--is-shallow-repository"]);
  if (r.exitCode !== 0) {
    throw new StrataError("missing-repository", `${abs} is not inside a git repository: diff and log read commits`, {
      hint: "run `git init` and commit the configuration, or pass --repo DIR",
    });
  }
  const [top = abs, prefix = "", shallow = "false"] = r.stdout.toString("utf8").split("\n");
  const blobs = createBlobReader(abs);
  return { dir: abs, top, prefix, shallow: shallow === "true", blobs, close: () => blobs.close() };
}

/** True when the repository has at least one commit on HEAD. */
async function hasCommits(repo: GitRepo): Promise<boolean> {
  return (await runGitRaw(repo.dir, ["rev-parse", "--verify", "--quiet", "HEAD^{commit}"])).exitCode === 0;
}

/** The commit a ref names, or null. */
export async function tryResolveCommit(repo: GitRepo, ref: string): Promise<string | null> {
  const r = await runGitRaw(repo.dir, ["rev-parse", "--verify", "--quiet", "--end-of-options", `${ref}^{commit}`]);
  if (r.exitCode !== 0) return null;
  return r.stdout.toString("utf8").trim();
}

/** The commit a ref names; `unknown-ref` (or `shallow-clone` when history is missing) otherwise. */
export async function resolveCommit(repo: GitRepo, ref: string, role: string): Promise<string> {
  const sha = await tryResolveCommit(repo, ref);
  if (sha !== null) return sha;
  if (!(await hasCommits(repo)) && /^HEAD([~^]|$)/.test(ref)) {
    throw new StrataError("unknown-ref", `${role} ${JSON.stringify(ref)}: the repository has no commits yet`, {
      hint: "commit the configuration first",
    });
  }
  if (repo.shallow) {
    throw new StrataError("shallow-clone", `${role} ${JSON.stringify(ref)} is not in this shallow clone`, {
      hint: SHALLOW_HINT,
    });
  }
  throw new StrataError("unknown-ref", `${role} ${JSON.stringify(ref)} does not name a commit`, {
    hint: "use a branch, tag or commit that exists locally (`git fetch` first for remote branches)",
  });
}

/** The commit's parents as recorded in the commit object (a shallow clone may not have their objects). */
async function readParents(repo: GitRepo, sha: string): Promise<string[]> {
  const text = await runGit(repo.dir, ["cat-file", "commit", sha]);
  const parents: string[] = [];
  for (const line of text.split("\n")) {
    if (line === "") break;
    if (line.startsWith("parent ")) parents.push(line.slice(7));
  }
  return parents;
}

async function hasObject(repo: GitRepo, sha: string): Promise<boolean> {
  return (await runGitRaw(repo.dir, ["cat-file", "-e", `${sha}^{commit}`])).exitCode === 0;
}

/** The default branch: origin/HEAD, else main, else master (local, then origin's). */
async function findDefaultBranch(repo: GitRepo): Promise<string | null> {
  const sym = await runGitRaw(repo.dir, ["symbolic-ref", "-q", "refs/remotes/origin/HEAD"]);
  const candidates: string[] = [];
  if (sym.exitCode === 0) candidates.push(sym.stdout.toString("utf8").trim());
  candidates.push("refs/heads/main", "refs/heads/master", "refs/remotes/origin/main", "refs/remotes/origin/master");
  for (const ref of candidates) if ((await tryResolveCommit(repo, ref)) !== null) return ref;
  return null;
}

export interface BaseChoice {
  sha: string;
  /** How it was chosen, for the report: "merge-base with main", "HEAD^1 (merge commit)". */
  description: string;
}

/**
 * The default base: the merge-base of head with the default branch. In a shallow clone of a pull request's
 * merge commit (actions/checkout with `fetch-depth: 2`) the base is the merge commit's first parent. When the
 * base cannot be seen, fail: reporting "no changes" against a commit we cannot read would be a lie.
 */
export async function findDefaultBase(repo: GitRepo, head: string | null): Promise<BaseChoice> {
  const headRef = head ?? "HEAD";
  if (!(await hasCommits(repo)) && head === null) {
    throw new StrataError(
      "unknown-ref",
      "the repository has no commits yet: there is no base to compare the working tree with",
      {
        hint: "commit the configuration first, or pass --base REF",
      },
    );
  }
  const headSha = head ?? (await resolveCommit(repo, "HEAD", "head"));
  const branch = await findDefaultBranch(repo);
  if (branch !== null) {
    const mb = await runGitRaw(repo.dir, ["merge-base", branch, headRef]);
    if (mb.exitCode === 0) {
      const sha = mb.stdout.toString("utf8").trim();
      // In a shallow clone a merge-base on the grafted boundary may not be the real fork point (history
      // behind it is cut); it is trusted only when it is the head itself or the default branch's tip.
      if (
        !repo.shallow ||
        !(await readShallowBoundary(repo)).has(sha) ||
        sha === headSha ||
        sha === (await tryResolveCommit(repo, branch))
      ) {
        return { sha, description: `merge-base with ${shortRef(branch)}` };
      }
    }
  }
  const parents = await readParents(repo, headSha);
  if (parents.length >= 2 && parents[0] !== undefined) {
    if (await hasObject(repo, parents[0]))
      return { sha: parents[0], description: "HEAD^1 (first parent of the merge commit)" };
    throw new StrataError(
      "shallow-clone",
      "head is a merge commit whose parents are not in this shallow clone: the base cannot be read",
      { hint: SHALLOW_HINT },
    );
  }
  if (repo.shallow) {
    throw new StrataError(
      "shallow-clone",
      "this is a shallow clone and the merge-base with the default branch is not in it",
      { hint: SHALLOW_HINT },
    );
  }
  if (branch === null) {
    throw new StrataError(
      "unknown-ref",
      "no default branch found (origin/HEAD, main or master) to take the base from",
      { hint: "pass --base REF" },
    );
  }
  throw new StrataError("unknown-ref", `head and ${shortRef(branch)} have no common ancestor`, {
    hint: "pass --base REF",
  });
}

export async function isAncestor(repo: GitRepo, ancestor: string, descendant: string): Promise<boolean> {
  return (await runGitRaw(repo.dir, ["merge-base", "--is-ancestor", ancestor, descendant])).exitCode === 0;
}

async function readShallowBoundary(repo: GitRepo): Promise<Set<string>> {
  const path = (await runGit(repo.dir, ["rev-parse", "--git-path", "shallow"])).trim();
  try {
    return new Set((await readFile(resolve(repo.dir, path), "utf8")).split("\n").filter((l) => l !== ""));
  } catch {
    return new Set();
  }
}

function shortRef(ref: string): string {
  return ref.replace(/^refs\/(heads|remotes)\//, "");
}

/**
 * A file's text at a commit, by its path from the top of the git tree (as GitHub's contents API names it):
 * null when the commit has no such file, undefined when the commit is not in this repository.
 */
export async function readFileAtCommit(
  repo: GitRepo,
  commit: string,
  path: string,
): Promise<string | null | undefined> {
  if (!/^[0-9a-f]{40,64}$/.test(commit)) return undefined;
  const r = await runGitRaw(repo.dir, ["cat-file", "blob", `${commit}:${path}`]);
  if (r.exitCode === 0) return r.stdout.toString("utf8");
  return (await hasObject(repo, commit)) ? null : undefined;
}
