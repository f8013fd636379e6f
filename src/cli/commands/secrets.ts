/**
 * `strata secrets encrypt|decrypt|edit|set|rotate|updatekeys|status FILE`: SOPS files, byte-compatible with
 * sops 3.13. Wiring only; the use cases live in src/app/secrets.
 */
import type { Command } from "commander";
import { EXIT, StrataError } from "../../core/findings.js";
import { log, print, printData, printPlaintext } from "../output.js";
import { printJson } from "../common.js";
import { attachAction, attachCommand } from "../spec.js";
import {
  secretsCommand,
  secretsDecryptCommand,
  secretsEditCommand,
  secretsEncryptCommand,
  secretsRotateCommand,
  secretsSetCommand,
  secretsStatusCommand,
  secretsUpdatekeysCommand,
} from "../table.js";

async function readStdin(): Promise<string> {
  const { readValueFromStandardInput } = await import("../../app/secrets/files.js");
  return readValueFromStandardInput();
}

export function register(program: Command): void {
  const cwd = process.cwd();
  const env = process.env;

  attachCommand(program, secretsCommand);
  attachAction(program, secretsEncryptCommand, async (o, [file]) => {
    const { encryptSecrets } = await import("../../app/secrets/encrypt.js");
    const r = await encryptSecrets({
      file,
      cwd,
      env,
      age: o.age ?? [],
      pgp: o.pgp ?? [],
      kms: o.kms ?? [],
      ...(o.config ? { configPath: o.config } : {}),
      ...(o.inPlace ? { inPlace: true } : {}),
      ...(o.inputType ? { inputType: o.inputType } : {}),
    });
    if (r.written) log(`encrypted ${file}`);
    else printData(r.text);
  });

  attachAction(program, secretsDecryptCommand, async (o, [file]) => {
    if (o.format !== undefined && o.format !== "json")
      throw new StrataError(
        "invalid-argument",
        `--format accepts only json (without it the file's own format is printed), not ${JSON.stringify(o.format)}`,
      );
    // Each subcommand loads only its own use case: decrypting an age file never loads what editing,
    // gpg or KMS need (test/cli/startup-modules.test.ts).
    const { decryptSecrets } = await import("../../app/secrets/decrypt.js");
    const text = await decryptSecrets({
      file,
      cwd,
      env,
      ...(o.ignoreMac ? { ignoreMac: true } : {}),
      ...(o.format ? { outputFormat: "json" as const } : {}),
      ...(o.extract !== undefined ? { extract: o.extract } : {}),
      ...(o.inputType ? { inputType: o.inputType } : {}),
      onWarning: log,
    });
    printPlaintext(text);
  });

  attachAction(program, secretsEditCommand, async (o, [file]) => {
    const { editSecrets } = await import("../../app/secrets/edit.js");
    const r = await editSecrets({
      file,
      cwd,
      env,
      ...(o.ignoreMac ? { ignoreMac: true } : {}),
      ...(o.inputType ? { inputType: o.inputType } : {}),
    });
    log(r.changed ? `updated ${file}` : `${file} has not changed`);
  });

  attachAction(program, secretsSetCommand, async (o, [file, path, value]) => {
    if (o.valueStdin && value !== undefined)
      throw new StrataError("invalid-argument", "give the value either as an argument or with --value-stdin, not both");
    const v = o.valueStdin ? await readStdin() : value;
    if (v === undefined) throw new StrataError("invalid-argument", "missing VALUE (or --value-stdin)");
    const { setSecret } = await import("../../app/secrets/set.js");
    const created = await setSecret({
      file,
      cwd,
      env,
      path,
      value: v,
      onWarning: log,
      ...(o.ignoreMac ? { ignoreMac: true } : {}),
      ...(o.inputType ? { inputType: o.inputType } : {}),
    });
    if (created) log(`created ${file}, encrypted by ${created.rule} for ${created.recipients.join(", ")}`);
    log(`set ${path} in ${file}`);
  });

  attachAction(program, secretsRotateCommand, async (o, [file]) => {
    const { rotateSecrets } = await import("../../app/secrets/rotate.js");
    const r = await rotateSecrets({
      file,
      cwd,
      env,
      addAge: o.addAge ?? [],
      addPgp: o.addPgp ?? [],
      ...(o.inPlace ? { inPlace: true } : {}),
      ...(o.ignoreMac ? { ignoreMac: true } : {}),
      ...(o.inputType ? { inputType: o.inputType } : {}),
    });
    if (r.written) log(`rotated the data key of ${file}`);
    else printData(r.text);
  });

  attachAction(program, secretsUpdatekeysCommand, async (o, [file]) => {
    const { updateKeys } = await import("../../app/secrets/rotate.js");
    const r = await updateKeys({
      file,
      cwd,
      env,
      ...(o.config ? { configPath: o.config } : {}),
      ...(o.inputType ? { inputType: o.inputType } : {}),
    });
    log(r.changed ? `updated the recipients of ${file}` : `${file}: recipients already up to date`);
  });

  attachAction(program, secretsStatusCommand, async (o, [file]) => {
    const { readSecretsStatus } = await import("../../app/secrets/status.js");
    const s = await readSecretsStatus(file, cwd, o.inputType);
    process.exitCode = s.state === "encrypted" ? EXIT.ok : s.state === "plaintext" ? EXIT.findings : EXIT.usage;
    if (o.format === "json") printData(printJson({ schemaVersion: 1, file, ...s }));
    else if (s.state === "encrypted") print(`${file}: encrypted`);
    else if (s.state === "plaintext") print(`${file}: not encrypted`);
    else log(`${file}: unreadable: ${s.reason}`);
  });
}
