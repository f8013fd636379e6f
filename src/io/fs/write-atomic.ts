/**
 * Replacing a file so that a reader (an editor, tsc in watch mode, a reloading process) sees the old
 * content or the new, never half of it: a temporary file beside the target, fsync, rename.
 */
import { lstat, open, realpath, rename, rm, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { randomBytes } from "node:crypto";
import { StrataError } from "../../core/findings.js";

export async function writeFileAtomic(path: string, text: string, options: { label?: string } = {}): Promise<void> {
  const label = options.label ?? path;
  // A symbolic link is followed: its target is replaced, the link stays (as an editor would save).
  let file = path;
  try {
    if ((await lstat(path)).isSymbolicLink()) file = await realpath(path);
  } catch (cause) {
    if ((cause as NodeJS.ErrnoException).code !== "ENOENT") throw unwritable(label, cause);
  }
  // Keep the mode of a file being replaced; a new one gets the usual 0644 (less the umask).
  let mode = 0o644;
  try {
    const st = await stat(file);
    if (st.isDirectory())
      throw new StrataError("invalid-argument", `cannot write ${label}: it is a directory`, { hint: "name a file" });
    mode = st.mode & 0o777;
  } catch (e) {
    if (e instanceof StrataError) throw e;
  }
  const tmp = join(dirname(file), `.${basename(file)}.${randomBytes(6).toString("hex")}.tmp`);
  let handle;
  try {
    handle = await open(tmp, "wx", mode);
  } catch (cause) {
    throw unwritable(label, cause);
  }
  try {
    await handle.writeFile(text);
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(tmp, file);
  } catch (cause) {
    await handle?.close().catch(() => undefined);
    await rm(tmp, { force: true }).catch(() => undefined);
    throw unwritable(label, cause);
  }
}

function unwritable(label: string, cause: unknown): StrataError {
  const code = (cause as NodeJS.ErrnoException).code ?? "error";
  const hint =
    code === "ENOENT"
      ? "its directory does not exist: create it first"
      : code === "EACCES" || code === "EPERM" || code === "EROFS"
        ? "the directory is not writable"
        : undefined;
  return new StrataError("invalid-argument", `cannot write ${label}: ${code}`, { hint, cause });
}
