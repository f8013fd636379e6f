/** Which config files differ between two commits, or between a commit and the working tree. */
import type { ChangedFile, FileChangeStatus } from "../../core/diff/changes.js";
import type { GitRepo } from "./repo.js";
import { runGit, splitNul } from "./run.js";

const STATUS: Record<string, FileChangeStatus> = {
  A: "added",
  D: "deleted",
  M: "modified",
  R: "renamed",
  C: "added",
  T: "type-changed",
};

/** A changed file with the blob it has at the new side (null when deleted, a submodule or a symlink). */
export interface RawChange extends ChangedFile {
  oid: string | null;
}

const NULL_OID = /^0+$/;

/** Parses `git diff --raw -z` output (paths relative to the config root thanks to `--relative`). */
export function parseRawDiff(out: string): RawChange[] {
  const parts = splitNul(out);
  const changes: RawChange[] = [];
  for (let i = 0; i < parts.length;) {
    // ":<old mode> <new mode> <old oid> <new oid> <status>"
    const meta = (parts[i++] ?? "").split(" ");
    const letter = meta.at(-1)?.charAt(0) ?? "M";
    const status = STATUS[letter] ?? "modified";
    const mode = meta[1] ?? "";
    const newOid = meta[3] ?? "";
    const oid = letter === "D" || NULL_OID.test(newOid) || mode === "160000" || mode === "120000" ? null : newOid;
    if (letter === "R" || letter === "C") {
      const from = parts[i++] ?? "";
      const to = parts[i++] ?? "";
      changes.push({ status, path: to, oldPath: letter === "R" ? from : null, oid });
    } else {
      changes.push({ status, path: parts[i++] ?? "", oldPath: null, oid });
    }
  }
  return changes;
}

/** The tree after a change: `tree` (the parent's) with the raw diff applied, as a new map. */
export function applyRawChanges(
  tree: ReadonlyMap<string, { oid: string; size: number }>,
  changes: readonly RawChange[],
): Map<string, { oid: string; size: number }> {
  const next = new Map(tree);
  for (const c of changes) {
    if (c.oldPath !== null) next.delete(c.oldPath);
    if (c.oid === null) next.delete(c.path);
    else next.set(c.path, { oid: c.oid, size: -1 });
  }
  return next;
}

/**
 * The changed files between `base` and `head` (a commit, or null for the working tree, untracked files
 * included), with rename detection so that a renamed environment or namespace shows as such.
 */
export async function readChangedFiles(repo: GitRepo, base: string, head: string | null): Promise<ChangedFile[]> {
  return (await readRawChanges(repo, base, head)).map(({ status, path, oldPath }) => ({ status, path, oldPath }));
}

async function readRawChanges(repo: GitRepo, base: string, head: string | null): Promise<RawChange[]> {
  // `--relative` keeps only the config root's subtree and makes paths relative to it.
  const args = [
    "-c",
    "diff.renameLimit=10000",
    "diff",
    "--raw",
    "-z",
    "--no-abbrev",
    "-M",
    "--relative",
    "--no-ext-diff",
    "--ignore-submodules",
  ];
  const out = await runGit(repo.dir, head === null ? [...args, base, "--"] : [...args, base, head, "--"]);
  const changes = parseRawDiff(out);
  if (head === null) {
    const untracked = splitNul(await runGit(repo.dir, ["ls-files", "-z", "--others", "--exclude-standard"]));
    for (const path of untracked) changes.push({ status: "added", path, oldPath: null, oid: null });
  }
  return changes;
}
