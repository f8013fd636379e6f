// Temporary directories and git repositories for tests (changesets' `gitdir`): branch main, a fixed
// user, no gc, no global config.
import { execFileSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";

export type FileTree = Record<string, string | Uint8Array>;

const created: string[] = [];

export function tempdir(prefix = "strata-test-"): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  created.push(d);
  return d;
}

export function cleanupTempdirs(): void {
  for (const d of created.splice(0)) rmSync(d, { recursive: true, force: true });
}

export function writeTree(root: string, files: FileTree): void {
  for (const [path, content] of Object.entries(files)) {
    const full = join(root, path);
    mkdirSync(dirname(full), { recursive: true });
    writeFileSync(full, content);
  }
}

const gitEnv = {
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "Test Author",
  GIT_AUTHOR_EMAIL: "author@example.com",
  GIT_COMMITTER_NAME: "Test Author",
  GIT_COMMITTER_EMAIL: "author@example.com",
};

export function git(cwd: string, ...args: string[]): string {
  return execFileSync("git", ["-c", "gc.auto=0", "-c", "init.defaultBranch=main", ...args], {
    cwd,
    env: { ...process.env, ...gitEnv },
    encoding: "utf8",
    stdio: ["ignore", "pipe", "pipe"],
  });
}

/** A directory with the files written and, when `commit` is given, a git repository with one commit. */
export function gitdir(files: FileTree, options: { commit?: string } = { commit: "initial" }): string {
  const dir = tempdir();
  writeTree(dir, files);
  if (options.commit !== undefined) {
    git(dir, "init", "-q", "-b", "main");
    git(dir, "add", "-A");
    git(dir, "commit", "-q", "--allow-empty", "-m", options.commit);
  }
  return dir;
}

export function commitAll(dir: string, message: string): string {
  git(dir, "add", "-A");
  git(dir, "commit", "-q", "--allow-empty", "-m", message);
  return git(dir, "rev-parse", "HEAD").trim();
}
