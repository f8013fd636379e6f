/**
 * `secrets edit`: decrypt to a private temporary file (0600 in a 0700 directory, always removed), run the
 * editor, re-encrypt with the same data key. Unchanged values keep their IVs, so their ciphertexts do too.
 */
import { basename, join } from "node:path";
import { execa } from "execa";
import { StrataError } from "../../core/findings.js";
import {
  createPrivateTempDirectory,
  readBinaryFile,
  removePath,
  removePathSync,
  writePrivateFile,
} from "../../io/fs/files.js";
import { shellQuote } from "../../core/render/shell.js";
import { emitBinaryPlain, parseBinaryPlain, stores } from "../../core/sops/stores/index.js";
import { parsePlainText } from "./encrypt.js";
import { readSecretsFile, storeFormat, writeSecretsFile } from "./files.js";
import { openSopsText } from "./open.js";
import { sealSopsText } from "./seal.js";

export interface EditOptions {
  file: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  ignoreMac?: boolean;
  inputType?: string;
}

const SIGNALS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * Removes the plaintext directory even when strata is interrupted while the editor runs: the handler
 * cleans up, then re-raises the signal so the process still ends the way it was asked to.
 */
function guardPlaintextDir(dir: string): () => void {
  const onSignal = (signal: NodeJS.Signals): void => {
    removePathSync(dir);
    for (const s of SIGNALS) process.removeListener(s, onSignal);
    process.kill(process.pid, signal);
  };
  for (const s of SIGNALS) process.on(s, onSignal);
  return () => {
    for (const s of SIGNALS) process.removeListener(s, onSignal);
  };
}

export async function editSecrets(options: EditOptions): Promise<{ changed: boolean }> {
  const format = storeFormat(options.file, options.inputType);
  const text = await readSecretsFile(options.file, options.cwd);
  const opened = await openSopsText(text, format, {
    file: options.file,
    env: options.env,
    ignoreMac: options.ignoreMac ?? false,
  });
  const before =
    format === "binary"
      ? Buffer.from(emitBinaryPlain(opened.plain))
      : Buffer.from(stores[format].emitPlain(opened.plain), "utf8");
  const dir = await createPrivateTempDirectory("strata-edit-");
  const unguard = guardPlaintextDir(dir);
  try {
    const tmp = join(dir, basename(options.file));
    await writePrivateFile(tmp, before);
    const editor = options.env.SOPS_EDITOR || options.env.EDITOR || "vi";
    const r = await execa(`${editor} ${shellQuote(tmp)}`, {
      shell: true,
      stdio: "inherit",
      env: options.env,
      extendEnv: false,
      reject: false,
      cwd: options.cwd,
    });
    if (r.exitCode !== 0)
      throw new StrataError(
        "invalid-argument",
        `the editor exited with code ${r.exitCode ?? "unknown"}; ${options.file} is unchanged`,
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
