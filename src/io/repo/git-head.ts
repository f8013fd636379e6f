/** What a snapshot's `source` needs from git: the repository and the commit of the working tree. */
import { execFile } from "node:child_process";
import { basename } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);

async function git(dir: string, ...args: string[]): Promise<string | null> {
  try {
    const { stdout } = await run("git", ["-C", dir, ...args], { encoding: "utf8" });
    return stdout.trim();
  } catch {
    return null;
  }
}

/** `owner/name` from GITHUB_REPOSITORY, else the origin URL, else the directory name; the HEAD commit or null. */
export async function readGitSource(dir: string, env: NodeJS.ProcessEnv = process.env): Promise<{ repository: string | null; commit: string | null; dirty: boolean }> {
  const commit = await git(dir, "rev-parse", "--verify", "-q", "HEAD");
  const origin = await git(dir, "config", "--get", "remote.origin.url");
  // Never record credentials embedded in a remote URL.
  const repository = env.GITHUB_REPOSITORY || (origin ? origin.replace(/\/\/[^@/]+@/, "//") : null) || (commit ? basename(dir) : null);
  const status = commit ? await git(dir, "status", "--porcelain", "--", "strata.yaml", "schemas", "environments") : null;
  return { repository, commit: commit || null, dirty: Boolean(status) };
}
