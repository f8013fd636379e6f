/** What changed between two sides, path by path (from `git diff --raw`), relative to the config root. */
export type FileChangeStatus = "added" | "deleted" | "modified" | "renamed" | "type-changed";

export interface ChangedFile {
  status: FileChangeStatus;
  /** The path at head (for a deletion: the path at base). */
  path: string;
  /** The path at base when it differs (renames). */
  oldPath: string | null;
}

/** The files a change at `c` touches on either side. */
export function touchedPaths(c: ChangedFile): string[] {
  return c.oldPath !== null && c.oldPath !== c.path ? [c.oldPath, c.path] : [c.path];
}
