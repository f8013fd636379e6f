/**
 * Where the agent's output files go: through the one atomic writer (io/fs/files.ts), inside the directory the
 * user named for each file. A link the user typed on the way is theirs to follow; the file itself being a link
 * out of its directory is refused (a planted `config.json -> ~/.ssh/authorized_keys` is never written through),
 * and a link inside it is replaced by the file. A missing directory is created, private (0700).
 */
import { lstat, stat } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { StrataError } from "../../core/findings.js";
import { readFileToMerge, writeFileInside } from "../../io/fs/files.js";

/** The deepest directory on the way to `path` that exists (what the write must stay inside), and those missing below it. */
async function existingAncestor(path: string): Promise<{ within: string; missing: string[] }> {
  const missing: string[] = [];
  let dir = dirname(resolve(path));
  for (;;) {
    const st = await lstat(dir).catch((e: NodeJS.ErrnoException) => {
      if (e.code === "ENOENT") return null;
      throw e;
    });
    if (st !== null || dirname(dir) === dir) {
      if (!(await stat(dir).catch(() => null))?.isDirectory())
        throw new StrataError("invalid-argument", `cannot write ${path}: ${dir} is not a directory`, {
          hint: "name an --out file in a directory (a missing one is created)",
        });
      return { within: dir, missing: missing.reverse() };
    }
    missing.push(dir);
    dir = dirname(dir);
  }
}

/** What an earlier run left at `path` (null when nothing); refused, as the write would be, when it is a link out. */
export async function readOutputFile(path: string): Promise<string | null> {
  const { within } = await existingAncestor(path);
  return readFileToMerge(path, within, path);
}

/** Replaces `path` atomically (mode 0600); returns the directories it had to create (0700). */
export async function writeOutputFile(path: string, text: string): Promise<string[]> {
  const { within, missing } = await existingAncestor(path);
  await writeFileInside(path, text, { within, mode: 0o600, createDirectories: true, label: path });
  return missing;
}
