/**
 * The one way strata replaces or creates a file: a temporary file in the same directory, written, fsynced
 * and renamed over the target (or linked, when nothing may be replaced), then the directory fsynced. A
 * reader sees the old content or the new, never half of it, and a crash leaves one of the two.
 *
 * It never writes through a link it was not asked to follow. Every write stays inside a directory the
 * caller names (`within`: the repository, or the directory the user named for an output): a directory on
 * the way that is a link leading out of it, or a file that is a link leading out of it, is refused
 * (`WriteRefusedError`); a file that is a link inside it is replaced by a regular file rather than
 * followed. So a committed `.vscode/settings.json -> ~/.bashrc` cannot make strata write a user's files.
 *
 * Node built-ins only: the SDK (src/client) writes its cache and the server its tokens file with it too.
 */
import { randomBytes } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from "node:path";

export interface AtomicWriteOptions {
  /**
   * The directory the write must stay inside (it must exist): the repository root, or the directory an
   * output was named in. Links inside it are fine to pass through; links out of it are refused.
   */
  within: string;
  /** Mode of the file written; default: a replaced regular file keeps its mode, a new one gets 0644. */
  mode?: number;
  /** Create nothing over an existing path (a file, a link, anything): EEXIST instead. */
  exclusive?: boolean;
  /** Create missing directories between `within` and the file (0755; 0700 when `mode` is private). */
  createDirectories?: boolean;
  /** false: skip the fsyncs (a pointer file that recovery can rebuild). Default true. */
  durable?: boolean;
  /**
   * Called once the new content is in place beside the target, just before it replaces it: false leaves
   * the target as it was (the write returns false). For writers that must check a lock at the last moment.
   */
  beforeReplace?: () => Promise<boolean>;
}

/** A write refused because it would leave the directory it must stay in, or replace what is not a file. */
export class WriteRefusedError extends Error {
  readonly code = "EWRITEREFUSED";
  constructor(
    message: string,
    /** The path the caller asked to write. */
    readonly path: string,
    readonly reason: "outside" | "link-outside" | "not-a-file",
  ) {
    super(message);
    this.name = "WriteRefusedError";
  }
}

function isInside(root: string, path: string): boolean {
  const rel = relative(root, path);
  return rel === "" || (!rel.startsWith(`..${sep}`) && rel !== ".." && !isAbsolute(rel));
}

/** Where a link points, resolved as far as it exists (a dangling link's target is taken as written). */
async function linkTarget(link: string): Promise<string> {
  try {
    return await fs.realpath(link);
  } catch {
    return resolve(dirname(link), await fs.readlink(link));
  }
}

/**
 * The real directory `path`'s file goes in, every directory on the way checked (and created, if asked):
 * each must be inside `root` once links are resolved.
 */
async function resolveDirectory(root: string, path: string, options: AtomicWriteOptions): Promise<string> {
  const rel = relative(resolve(options.within), resolve(dirname(path)));
  let current = root;
  if (rel === "") return current;
  for (const segment of rel.split(sep)) {
    const next = join(current, segment);
    let st;
    try {
      st = await fs.lstat(next);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT" || !options.createDirectories) throw error;
      const privateMode = options.mode !== undefined && (options.mode & 0o077) === 0;
      await fs.mkdir(next, { mode: privateMode ? 0o700 : 0o755 }).catch((e: NodeJS.ErrnoException) => {
        if (e.code !== "EEXIST") throw e;
      });
      st = await fs.lstat(next);
    }
    if (st.isSymbolicLink()) {
      const target = await linkTarget(next);
      if (!isInside(root, target))
        throw new WriteRefusedError(`${next} is a link to ${target}, outside ${root}`, path, "link-outside");
      current = target;
      st = await fs.stat(next);
    } else current = next;
    if (!st.isDirectory()) {
      const e = new Error(`${next} is not a directory`) as NodeJS.ErrnoException;
      e.code = "ENOTDIR";
      throw e;
    }
  }
  return current;
}

async function syncDirectory(dir: string): Promise<void> {
  const d = await fs.open(dir, constants.O_RDONLY).catch(() => null);
  if (d === null) return;
  // Not every platform lets a directory be fsynced: best effort there.
  await d
    .sync()
    .catch(() => undefined)
    .finally(() => d.close());
}

/**
 * Writes `data` to `path` atomically and never through a link out of `options.within` (see the module's
 * comment). Returns false only when `beforeReplace` declined. Node's errors (ENOENT, EACCES, EEXIST with
 * `exclusive`, EISDIR, ENOTDIR) pass through; a refused write is a `WriteRefusedError`.
 */
export async function writeFileAtomic(
  path: string,
  data: string | Uint8Array,
  options: AtomicWriteOptions,
): Promise<boolean> {
  const root = await fs.realpath(options.within);
  if (!isInside(resolve(options.within), resolve(path)) || resolve(path) === resolve(options.within))
    throw new WriteRefusedError(`${path} is not inside ${options.within}`, path, "outside");
  const dir = await resolveDirectory(root, path, options);
  const target = join(dir, basename(path));
  let mode = options.mode ?? 0o644;
  try {
    const st = await fs.lstat(target);
    if (options.exclusive) {
      const e = new Error(`${path} exists`) as NodeJS.ErrnoException;
      e.code = "EEXIST";
      throw e;
    }
    if (st.isSymbolicLink()) {
      const to = await linkTarget(target);
      if (!isInside(root, to))
        throw new WriteRefusedError(`${path} is a link to ${to}, outside ${root}`, path, "link-outside");
      // A link inside: replaced by the file itself, never followed.
    } else if (st.isDirectory()) {
      const e = new Error(`${path} is a directory`) as NodeJS.ErrnoException;
      e.code = "EISDIR";
      throw e;
    } else if (!st.isFile()) {
      throw new WriteRefusedError(`${path} is not a regular file`, path, "not-a-file");
    } else if (options.mode === undefined) mode = st.mode & 0o777;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
  }

  const durable = options.durable !== false;
  // `.tmp-<pid>-…`: the file store removes a crashed writer's leftovers by that pattern.
  const tmp = join(dir, `.tmp-${process.pid}-${randomBytes(6).toString("hex")}.${basename(path).slice(0, 100)}`);
  const handle = await fs.open(tmp, "wx", mode);
  try {
    await handle.writeFile(data);
    await handle.chmod(mode); // the umask narrowed the mode given to open
    if (durable) await handle.sync();
  } catch (error) {
    await handle.close().catch(() => undefined);
    await fs.unlink(tmp).catch(() => undefined);
    throw error;
  }
  await handle.close();
  try {
    if (options.beforeReplace && !(await options.beforeReplace())) {
      await fs.unlink(tmp);
      return false;
    }
    if (options.exclusive) {
      // link() fails if anything (a file, a link, a dangling link) has appeared at the target meanwhile.
      await fs.link(tmp, target);
      await fs.unlink(tmp);
    } else await fs.rename(tmp, target);
  } catch (error) {
    await fs.unlink(tmp).catch(() => undefined);
    throw error;
  }
  if (durable) await syncDirectory(dir);
  return true;
}

/**
 * The file a write to `path` within `within` would replace, for a caller that merges into it first (an
 * editor's settings file): the path itself, or the target of a link inside `within`; a link out of it is
 * a `WriteRefusedError`, as the write would be. Its content may be read; the write replaces `path` itself.
 */
export async function resolveFileToMerge(path: string, within: string): Promise<string> {
  const root = await fs.realpath(within);
  if (!isInside(resolve(within), resolve(path)))
    throw new WriteRefusedError(`${path} is not inside ${within}`, path, "outside");
  let dir: string;
  try {
    dir = await resolveDirectory(root, path, { within });
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return resolve(path);
    throw error;
  }
  const file = join(dir, basename(path));
  const st = await fs.lstat(file).catch(() => null);
  if (st === null || !st.isSymbolicLink()) return file;
  const to = await linkTarget(file);
  if (!isInside(root, to))
    throw new WriteRefusedError(`${path} is a link to ${to}, outside ${root}`, path, "link-outside");
  return to;
}
