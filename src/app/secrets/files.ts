/** File I/O of the secrets use cases: reading with `unreadable-file`, atomic writes keeping the mode. */
import { dirname, resolve } from "node:path";
import { StrataError } from "../../core/findings.js";
import { pathExists, readBinaryFile, readFileMode, readTextFile, writeFileInside } from "../../io/fs/files.js";
import { findRepositoryRoot } from "../../io/repo/worktree.js";
import { readStandardInput } from "../../io/process/stdin.js";
import { STANDARD_STREAM } from "../../core/names.js";
import { formatForPath, parseFormat, type SopsFormat } from "../../core/sops/stores/index.js";

/** Standard input as text, one final newline dropped (`secrets set --value-stdin`). */
export async function readValueFromStandardInput(): Promise<string> {
  return (await readStandardInput()).toString("utf8").replace(/\r?\n$/, "");
}

export async function readSecretsFile(file: string, cwd: string): Promise<string> {
  if (file === STANDARD_STREAM) return (await readStandardInput()).toString("utf8");
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
  if (file === STANDARD_STREAM) return new Uint8Array(await readStandardInput());
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

/**
 * Replaces the file atomically, keeping its mode, inside its repository (or, outside one, the directory it
 * was named in): a file or directory on the way that is a link out of there is refused, never written
 * through (io/fs/write-atomic.ts). `createDirectories`: missing directories are created, inside it too.
 */
export async function writeSecretsFile(
  file: string,
  cwd: string,
  text: string,
  options: { createDirectories?: boolean } = {},
): Promise<void> {
  refuseStandardStreamInPlace(file);
  const full = resolve(cwd, file);
  let existing = dirname(full);
  while (!pathExists(existing) && dirname(existing) !== existing) existing = dirname(existing);
  let within = existing;
  try {
    within = findRepositoryRoot(existing);
  } catch {
    // Not in a strata repository: the directory the file was named in.
  }
  await writeFileInside(full, text, {
    within,
    label: file,
    ...(options.createDirectories ? { createDirectories: true } : {}),
  });
}

/** A command that writes its file in place cannot take `-` (standard input has nowhere to be written back). */
export function refuseStandardStreamInPlace(file: string): void {
  if (file === STANDARD_STREAM)
    throw new StrataError("invalid-argument", "`-` (standard input) cannot be changed in place", {
      hint: "name the file; or, without --in-place, read standard input and print the result",
    });
}

/**
 * The store of a file: `--input-type` when given, else sops' choice from the extension; standard input
 * (`-`) is JSON when its text starts with `{` or `[`, else YAML.
 */
export function storeFormat(file: string, override?: string, text?: string): SopsFormat {
  if (override === undefined && file === STANDARD_STREAM)
    return text !== undefined && /^\s*[[{]/.test(text) ? "json" : "yaml";
  if (override === undefined) return formatForPath(file);
  const f = parseFormat(override);
  if (f === null)
    throw new StrataError(
      "invalid-argument",
      `unknown file format ${JSON.stringify(override)} (yaml, json, dotenv, ini, binary)`,
    );
  return f;
}
