/**
 * The file-system calls of the use cases in src/app, named for what they do. src/app may not import
 * node:fs itself (eslint.config.js): its file I/O goes through here, so a use case reads as a sequence of
 * decisions and every raw system call of the tree lives in src/io. Errors are Node's, unchanged: callers
 * tell ENOENT from EEXIST from EACCES by `code` and turn them into located StrataErrors themselves.
 */
import { existsSync, lstatSync, rmSync } from "node:fs";
import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, isAbsolute, join, relative, resolve, sep } from "node:path";
import { StrataError } from "../../core/findings.js";
import { resolveFileToMerge, writeFileAtomic, WriteRefusedError, type AtomicWriteOptions } from "./write-atomic.js";

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

/**
 * Writes a private scratch file (mode 0600 unless given) in a directory strata created for itself
 * (`createPrivateTempDirectory`); files anyone else may see go through `writeFileInside` below.
 */
export async function writePrivateFile(path: string, data: string | Uint8Array): Promise<void> {
  await writeFile(path, data, { mode: 0o600, flag: "wx" });
}

export interface WriteOptions extends Omit<AtomicWriteOptions, "beforeReplace"> {
  /** How messages name the file (default: the path). */
  label?: string;
}

/**
 * Every file a command writes for the user (write-atomic.ts): atomically, inside `within`, never through a
 * link out of it. Failures are StrataErrors naming the file: `invalid-argument` (exit 2) for a refused
 * link, a missing directory, an existing file with `exclusive`, a directory in the way; `unreadable-file`
 * for permissions.
 */
export async function writeFileInside(path: string, data: string | Uint8Array, options: WriteOptions): Promise<void> {
  const label = options.label ?? path;
  try {
    await writeFileAtomic(path, data, options);
  } catch (error) {
    throw writeError(label, error, options.within);
  }
}

/**
 * The content to merge a write into (an editor's settings file): null when there is no file yet. Refused
 * like the write would be when the file is a link out of `within`.
 */
export async function readFileToMerge(path: string, within: string, label = path): Promise<string | null> {
  let file: string;
  try {
    file = await resolveFileToMerge(path, within);
  } catch (error) {
    throw writeError(label, error, within);
  }
  try {
    return await readFile(file, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw new StrataError(
      "unreadable-file",
      `cannot read ${label}: ${(error as NodeJS.ErrnoException).code ?? "error"}`,
      {
        cause: error,
      },
    );
  }
}

/** Refuses, as a write would be refused, a path (a directory to list, say) that a link leads out of `within`. */
export async function checkInside(path: string, within: string, label = path): Promise<void> {
  try {
    await resolveFileToMerge(path, within);
  } catch (error) {
    throw writeError(label, error, within);
  }
}

function writeError(label: string, error: unknown, within: string): StrataError {
  if (error instanceof StrataError) return error;
  if (error instanceof WriteRefusedError)
    return new StrataError("invalid-argument", `refusing to write ${label}: ${error.message}`, {
      cause: error,
      hint:
        error.reason === "not-a-file"
          ? "remove it, or write somewhere else"
          : `strata never writes through a link that leads out of ${within}: remove the link (a link committed to the repository: git rm it) and run again`,
    });
  const code = (error as NodeJS.ErrnoException).code ?? "error";
  const hints: Record<string, string> = {
    ENOENT: "its directory does not exist: create it first",
    EEXIST: "it exists already: remove it first, or choose another name",
    EISDIR: "it is a directory: name a file",
    ENOTDIR: "a part of its path is not a directory",
  };
  if (code === "EACCES" || code === "EPERM" || code === "EROFS")
    return new StrataError("unreadable-file", `cannot write ${label}: ${code}`, {
      cause: error,
      hint: "the directory is not writable",
    });
  return new StrataError(
    "invalid-argument",
    `cannot write ${label}: ${code === "EEXIST" ? "it exists" : code === "EISDIR" ? "it is a directory" : code}`,
    { cause: error, ...(hints[code] ? { hint: hints[code] } : {}) },
  );
}

/**
 * The directory an output may be written in: the repository when the path lies inside it, else the
 * directory the user named for it (links the user typed on the way are theirs to follow).
 */
export function outputDirectory(path: string, repositoryRoot: string | null): string {
  const full = resolve(path);
  if (repositoryRoot !== null) {
    const rel = relative(resolve(repositoryRoot), full);
    if (rel !== "" && rel !== ".." && !rel.startsWith(`..${sep}`) && !isAbsolute(rel)) return resolve(repositoryRoot);
  }
  return dirname(full);
}

/** Whether anything is at `path`, a dangling link included (existsSync follows links). */
export function entryExists(path: string): boolean {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
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
