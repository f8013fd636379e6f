/**
 * The last-known-good file: the accepted snapshot exactly as received (secrets still encrypted), written by
 * the one atomic writer (io/fs/write-atomic.ts: never through a link out of its directory, mode 0600).
 */
import { promises as fs } from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomic as writeAtomic } from "../io/fs/write-atomic.js";

export async function readCacheFile(path: string): Promise<string | null> {
  try {
    return await fs.readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** Writes `data` to `path` through the one atomic writer, inside `path`'s own directory, private by default. */
export async function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): Promise<void> {
  await writeAtomic(path, data, { within: dirname(path), mode });
}
