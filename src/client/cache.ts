/**
 * The last-known-good file: the accepted snapshot exactly as received (secrets still encrypted), written by
 * the one atomic writer (io/fs/write-atomic.ts: never through a link out of its directory, mode 0600).
 */
import { promises as fs } from "node:fs";
import { dirname } from "node:path";
import { writeFileAtomic } from "../io/fs/write-atomic.js";

export async function readCacheFile(path: string): Promise<string | null> {
  try {
    return await fs.readFile(path, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw e;
  }
}

/** Writes the cache file through the one atomic writer, inside its own directory, private (0600). */
export async function writeCacheFile(path: string, text: string): Promise<void> {
  await writeFileAtomic(path, text, { within: dirname(path), mode: 0o600 });
}

/** Removes a cache file; one that is not there is fine. */
export async function removeCacheFile(path: string): Promise<void> {
  await fs.rm(path, { force: true });
}
