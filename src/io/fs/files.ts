/**
 * The file-system calls of the use cases in src/app, named for what they do. src/app may not import
 * node:fs itself (eslint.config.js): its file I/O goes through here, so a use case reads as a sequence of
 * decisions and every raw system call of the tree lives in src/io. Errors are Node's, unchanged: callers
 * tell ENOENT from EEXIST from EACCES by `code` and turn them into located StrataErrors themselves.
 */
import { existsSync, rmSync } from "node:fs";
import { appendFile, chmod, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";

export function readTextFile(path: string): Promise<string> {
  return readFile(path, "utf8");
}

export function readBinaryFile(path: string): Promise<Buffer> {
  return readFile(path);
}

/** Whether something exists at `path` (a file, a directory, a link that resolves). */
export function pathExists(path: string): boolean {
  return existsSync(path);
}

/** The permission bits of an existing file (rejects with ENOENT when there is none). */
export async function readFileMode(path: string): Promise<number> {
  return (await stat(path)).mode & 0o777;
}

/** Writes `data`, replacing any file there (mode applies to a new file only, as for writeFile). */
export async function writeTextFile(
  path: string,
  data: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  await writeFile(path, data, options.mode === undefined ? {} : { mode: options.mode });
}

/** Creates a file that must not exist yet: rejects with EEXIST rather than overwrite. */
export async function writeNewFile(
  path: string,
  data: string | Uint8Array,
  options: { mode?: number } = {},
): Promise<void> {
  await writeFile(path, data, options.mode === undefined ? { flag: "wx" } : { flag: "wx", mode: options.mode });
}

export async function appendTextFile(path: string, text: string): Promise<void> {
  await appendFile(path, text);
}

export async function renamePath(from: string, to: string): Promise<void> {
  await rename(from, to);
}

/** Creates the directory and any missing parents (nothing when it exists). */
export async function ensureDirectory(path: string): Promise<void> {
  await mkdir(path, { recursive: true });
}

export function listDirectory(path: string): Promise<string[]> {
  return readdir(path);
}

/** Removes a file, or a directory with its contents; nothing when it is already gone. */
export async function removePath(path: string): Promise<void> {
  await rm(path, { recursive: true, force: true });
}

/** Removes a file; nothing when it is already gone (a directory is an error, EISDIR). */
export async function removeFile(path: string): Promise<void> {
  await rm(path, { force: true });
}

/** removePath for a signal handler, which cannot wait for a promise. */
export function removePathSync(path: string): void {
  rmSync(path, { recursive: true, force: true });
}

/** A new directory under the system's temporary directory that only this user can enter (0700). */
export async function createPrivateTempDirectory(prefix: string): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  try {
    await chmod(dir, 0o700);
  } catch (cause) {
    await rm(dir, { recursive: true, force: true }).catch(() => undefined);
    throw cause;
  }
  return dir;
}
