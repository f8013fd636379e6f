/**
 * RepoFiles over git: one commit's tree read from git objects (never a checkout), and the working tree as
 * git sees it (tracked files as they are on disk, plus untracked files that are not ignored).
 */
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { StrataError } from "../../core/findings.js";
import type { RepoFiles } from "../../core/source.js";
import type { GitRepo } from "./repo.js";
import { runGit, runGitRaw, splitNul } from "./run.js";

/**
 * Files larger than this are not read: a config file of that size is a mistake (a committed dump or binary),
 * and reading it would make every diff slow.
 */
const MAX_FILE_BYTES = 16 * 1024 * 1024;

function matchesPrefix(path: string, prefixes: readonly string[]): boolean {
  return prefixes.some((p) => p === "" || path === p || path.startsWith(p.endsWith("/") ? p : `${p}/`));
}

function checkSize(path: string, size: number, label: string): void {
  if (size > MAX_FILE_BYTES) {
    throw new StrataError(
      "unreadable-file",
      `${path} at ${label} is ${size} bytes; config files over ${MAX_FILE_BYTES} bytes are not read`,
      {
        hint: "keep large or binary files out of schemas/ and environments/",
        finding: { file: path },
      },
    );
  }
}

/** A commit's tree as path -> blob (relative to the config root). */
export type Tree = Map<string, TreeEntry>;

export interface TreeEntry {
  oid: string;
  /** Bytes; -1 when not known yet (checked when read). */
  size: number;
}

/** One `git ls-tree` of the config root at a commit. */
export async function readTree(repo: GitRepo, commit: string): Promise<Tree> {
  // `<commit>:<prefix>` is the config root's tree when the config lives in a subdirectory.
  const r = await runGitRaw(repo.dir, ["ls-tree", "-r", "-z", "-l", "--full-tree", `${commit}:${repo.prefix}`]);
  // No such directory at that commit (the config was added later): an empty tree.
  if (r.exitCode !== 0) return new Map();
  const entries: Tree = new Map();
  for (const record of splitNul(r.stdout.toString("utf8"))) {
    // "<mode> SP <type> SP <oid> SP+ <size> TAB <path>"
    const tab = record.indexOf("\t");
    const [mode, type, oid, size] = record.slice(0, tab).split(/ +/);
    // Submodules and symlinks are not config files.
    if (type !== "blob" || mode === "120000" || oid === undefined) continue;
    entries.set(record.slice(tab + 1), { oid, size: Number(size) });
  }
  return entries;
}

/** The files of one commit. `label` names it in messages (`HEAD~1 (abc1234)`). */
export function createCommitFiles(
  repo: GitRepo,
  commit: string,
  label = commit.slice(0, 12),
): RepoFiles & { readonly commit: string } {
  let tree: Promise<Tree> | null = null;
  return { ...createTreeFiles(repo, () => (tree ??= readTree(repo, commit)), label), commit };
}

/**
 * Files over a tree known without asking git (history walks derive each commit's tree from its parent's and
 * the commit's raw diff: no process per commit).
 */
export function createTreeFiles(repo: GitRepo, tree: Tree | (() => Promise<Tree>), label: string): RepoFiles {
  const entries = async (): Promise<Tree> => (typeof tree === "function" ? tree() : tree);
  return {
    label,
    async list(prefixes) {
      return [...(await entries()).keys()].filter((p) => matchesPrefix(p, prefixes)).sort();
    },
    async read(path) {
      const entry = (await entries()).get(path);
      if (!entry) return null;
      if (entry.size >= 0) checkSize(path, entry.size, label);
      const bytes = await repo.blobs.read(entry.oid);
      if (bytes !== null && entry.size < 0) checkSize(path, bytes.length, label);
      return bytes;
    },
  };
}

/**
 * The working tree: what a commit made now would contain, uncommitted and untracked (not ignored) files
 * included, deleted files excluded.
 */
export function createGitWorktreeFiles(repo: GitRepo, label = "working tree"): RepoFiles {
  let listing: Promise<string[]> | null = null;
  const load = async (): Promise<string[]> => {
    const out = await runGit(repo.dir, [
      "ls-files",
      "-z",
      "--cached",
      "--others",
      "--exclude-standard",
      "--deduplicate",
    ]);
    return [...new Set(splitNul(out))].sort();
  };
  return {
    label,
    async list(prefixes) {
      listing ??= load();
      const found: string[] = [];
      for (const p of await listing) {
        if (!matchesPrefix(p, prefixes)) continue;
        // A tracked file deleted on disk is listed by --cached: it is not part of the working tree.
        if (await isFile(join(repo.dir, p))) found.push(p);
      }
      return found;
    },
    async read(path) {
      const bytes = await readIfExists(join(repo.dir, path));
      if (bytes !== null) checkSize(path, bytes.length, label);
      return bytes;
    },
  };
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function readIfExists(path: string): Promise<Uint8Array | null> {
  try {
    return await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "EISDIR") return null;
    throw new StrataError("unreadable-file", `cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}
