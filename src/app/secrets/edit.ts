/**
 * `secrets edit`: decrypt to a private temporary file (0600 in a 0700 directory, always removed), run the
 * editor, re-encrypt with the same data key. Unchanged values keep their IVs, so their ciphertexts do too.
 */
import { basename, join } from "node:path";
import { StrataError } from "../../core/findings.js";
import { createPrivateTempDirectory, readBinaryFile, removePath, writePrivateFile } from "../../io/fs/files.js";
import { removeOnSignal, runEditor } from "../../io/process/editor.js";
import { emitBinaryPlain, parseBinaryPlain, stores } from "../../core/sops/stores/index.js";
import { parsePlainText } from "./encrypt.js";
import { refuseStandardStreamInPlace, writeSecretsFile } from "./files.js";
import { openSecretsFile, type SecretsFileOptions } from "./open.js";
import { sealSopsText } from "./seal.js";

export type EditOptions = SecretsFileOptions;

export async function editSecrets(options: EditOptions): Promise<{ changed: boolean }> {
  refuseStandardStreamInPlace(options.file);
  const opened = await openSecretsFile(options);
  const format = opened.format;
  const before =
    format === "binary"
      ? Buffer.from(emitBinaryPlain(opened.plain))
      : Buffer.from(stores[format].emitPlain(opened.plain), "utf8");
  const dir = await createPrivateTempDirectory("strata-edit-");
  const unguard = removeOnSignal(dir);
  try {
    const tmp = join(dir, basename(options.file));
    await writePrivateFile(tmp, before);
    const exitCode = await runEditor(tmp, { env: options.env, cwd: options.cwd });
    if (exitCode !== 0)
      throw new StrataError(
        "invalid-argument",
        `the editor exited with code ${exitCode ?? "unknown"}; ${options.file} is unchanged`,
      );
    const after = await readBinaryFile(tmp);
    if (after.equals(before)) return { changed: false };
    const plain =
      format === "binary" ? parseBinaryPlain(after) : parsePlainText(after.toString("utf8"), format, options.file);
    const out = sealSopsText(plain, format, opened.metadata, opened.dataKey, {
      file: options.file,
      ivCache: opened.ivCache,
    });
    await writeSecretsFile(options.file, options.cwd, out);
    return { changed: true };
  } finally {
    unguard();
    await removePath(dir);
  }
}
