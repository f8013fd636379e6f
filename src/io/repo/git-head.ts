/** What a snapshot's `source` needs from git: the repository and the commit of the working tree. */
import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { basename, join } from "node:path";
import { runGitRaw } from "../git/run.js";

/** Git's trimmed output, or null when git fails or is missing: a snapshot's source is best effort. */
async function git(dir: string, ...args: string[]): Promise<string | null> {
  const r = await runGitRaw(dir, args).catch(() => null);
  return r !== null && r.exitCode === 0 ? r.stdout.toString("utf8").trim() : null;
}

/** `owner/name` from GITHUB_REPOSITORY, else the origin URL, else the directory name; the HEAD commit or null. */
export async function readGitSource(
  dir: string,
  env: NodeJS.ProcessEnv = process.env,
): Promise<{ repository: string | null; commit: string | null; dirty: boolean }> {
  const commit = await git(dir, "rev-parse", "--verify", "-q", "HEAD");
  const origin = await git(dir, "config", "--get", "remote.origin.url");
  // Never record credentials embedded in a remote URL.
  const repository =
    env.GITHUB_REPOSITORY || (origin ? origin.replace(/\/\/[^@/]+@/, "//") : null) || (commit ? basename(dir) : null);
  const status = commit
    ? await git(dir, "status", "--porcelain", "--", "strata.yaml", "schemas", "environments")
    : null;
  return { repository, commit: commit || null, dirty: Boolean(status) };
}

/** The paths whose content feeds a snapshot (the same as `readGitSource` checks for a dirty tree). */
export const SNAPSHOT_INPUTS = ["strata.yaml", "schemas", "environments"];

/**
 * The uncommitted changes to the files that feed a snapshot: each changed path (untracked ones included)
 * with the SHA-256 of its working-tree bytes, or null when it was deleted. Sorted by path; empty when clean.
 */
export async function readUncommittedChanges(dir: string): Promise<[string, string | null][]> {
  const r = await runGitRaw(dir, [
    "status",
    "--porcelain=v1",
    "-z",
    "--untracked-files=all",
    "--",
    ...SNAPSHOT_INPUTS,
  ]).catch(() => null);
  if (r === null || r.exitCode !== 0) return [];
  const stdout = r.stdout.toString("utf8");
  const entries = stdout.split("\0");
  const paths = new Set<string>();
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i]!;
    if (e.length < 4) continue;
    paths.add(e.slice(3));
    // A rename or copy is followed by its source path: that one changed too.
    if (e[0] === "R" || e[0] === "C") paths.add(entries[++i] ?? "");
  }
  const out: [string, string | null][] = [];
  for (const path of [...paths].filter((p) => p !== "").sort()) {
    const bytes = await readFile(join(dir, path)).catch(() => null);
    out.push([path, bytes === null ? null : createHash("sha256").update(bytes).digest("hex")]);
  }
  return out;
}
