/** File I/O of the secrets use cases: reading with `unreadable-file`, atomic writes keeping the mode. */
import { dirname, join, basename, resolve } from "node:path";
import { StrataError } from "../../core/findings.js";
import { readBinaryFile, readFileMode, readTextFile, renamePath, writeTextFile } from "../../io/fs/files.js";
import { formatForPath, parseFormat, type SopsFormat } from "../../core/sops/stores/index.js";

export async function readSecretsFile(file: string, cwd: string): Promise<string> {
  try {
    return await readTextFile(resolve(cwd, file));
  } catch (cause) {
    throw new StrataError(
      "unreadable-file",
      `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? "error"}`,
      { cause },
    );
  }
}

/** Whether the file exists (anything else unreadable is left to the read that follows, with its error). */
export async function secretsFileExists(file: string, cwd: string): Promise<boolean> {
  try {
    await readFileMode(resolve(cwd, file));
    return true;
  } catch (cause) {
    return (cause as NodeJS.ErrnoException).code !== "ENOENT";
  }
}

export async function readSecretsBytes(file: string, cwd: string): Promise<Uint8Array> {
  try {
    return new Uint8Array(await readBinaryFile(resolve(cwd, file)));
  } catch (cause) {
    throw new StrataError(
      "unreadable-file",
      `cannot read ${file}: ${(cause as NodeJS.ErrnoException).code ?? "error"}`,
      { cause },
    );
  }
}

export async function writeSecretsFile(file: string, cwd: string, text: string): Promise<void> {
  const full = resolve(cwd, file);
  let mode = 0o644;
  try {
    mode = await readFileMode(full);
  } catch {
    // A new file gets the default mode.
  }
  const tmp = join(dirname(full), `.${basename(full)}.strata-${process.pid}.tmp`);
  await writeTextFile(tmp, text, { mode });
  await renamePath(tmp, full);
}

/** The store of a file: `--input-type` when given, else sops' choice from the extension. */
export function storeFormat(file: string, override?: string): SopsFormat {
  if (override === undefined) return formatForPath(file);
  const f = parseFormat(override);
  if (f === null)
    throw new StrataError(
      "invalid-argument",
      `unknown file format ${JSON.stringify(override)} (yaml, json, dotenv, ini, binary)`,
    );
  return f;
}
