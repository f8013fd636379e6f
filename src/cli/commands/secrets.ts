/**
 * `strata secrets encrypt|decrypt|edit|set|rotate|updatekeys|status FILE`: SOPS files, byte-compatible with
 * sops 3.13. Wiring only; the use cases live in src/app/secrets.
 */
import type { Command } from "commander";
import { EXIT, StrataError } from "../../core/findings.js";
import { log, print, printData, printPlaintext } from "../output.js";
import { addFormatOption, collectList, examples, printJson } from "../common.js";

async function readStdin(): Promise<string> {
  const { readValueFromStandardInput } = await import("../../app/secrets/files.js");
  return readValueFromStandardInput();
}

interface Common {
  ignoreMac?: boolean;
  inputType?: string;
}

export function register(program: Command): void {
  const secrets = program
    .command("secrets")
    .description(
      "SOPS files: encrypt, decrypt, edit, set, rotate, updatekeys, status (compatible with sops 3.13): see docs/secrets.md",
    )
    .addHelpText(
      "after",
      examples([
        ["strata secrets set environments/production/database.sops.yaml password --value-stdin", "set a secret"],
        ["strata secrets decrypt environments/production/database.sops.yaml", "print a file's plaintext"],
      ]),
    );
  const cwd = process.cwd();
  const env = process.env;

  secrets
    .command("encrypt <file>")
    .description(
      "encrypt a plaintext file for --age/--pgp recipients or the matching .sops.yaml creation rule (FILE -: standard input)",
    )
    .addHelpText(
      "after",
      examples([
        [
          "strata secrets encrypt -i environments/production/database.sops.yaml",
          "in place, for the .sops.yaml rule's keys",
        ],
        ["strata secrets encrypt --age age1... plain.yaml > secret.sops.yaml", "for an explicit recipient"],
      ]),
    )
    .option("--age <recipient>", "age recipient (repeatable, or comma-separated)", collectList, [])
    .option("--pgp <fingerprint>", "PGP fingerprint (repeatable, or comma-separated)", collectList, [])
    .option("--kms <arn>", "AWS KMS key ARN (repeatable, or comma-separated)", collectList, [])
    .option("-i, --in-place", "write the encrypted file over the plaintext")
    .option("--config <path>", "the .sops.yaml to use (default: found upwards from the working directory)")
    .option("--input-type <format>", "yaml, json, dotenv, ini or binary (default: from the extension)")
    .action(
      async (
        file: string,
        o: { age: string[]; pgp: string[]; kms: string[]; inPlace?: boolean; config?: string; inputType?: string },
      ) => {
        const { encryptSecrets } = await import("../../app/secrets/encrypt.js");
        const r = await encryptSecrets({
          file,
          cwd,
          env,
          age: o.age,
          pgp: o.pgp,
          kms: o.kms,
          ...(o.config ? { configPath: o.config } : {}),
          ...(o.inPlace ? { inPlace: true } : {}),
          ...(o.inputType ? { inputType: o.inputType } : {}),
        });
        if (r.written) log(`encrypted ${file}`);
        else printData(r.text);
      },
    );

  secrets
    .command("decrypt <file>")
    .description(
      "print the plaintext (the file's own format, or --format json); --extract prints one value; FILE - reads standard input",
    )
    .addHelpText(
      "after",
      examples([
        ["strata secrets decrypt environments/production/database.sops.yaml", "the whole file"],
        ["strata secrets decrypt --extract password environments/production/database.sops.yaml", "one value"],
        ["kubectl get secret app -o jsonpath='{.data.sops}' | base64 -d | strata secrets decrypt -", "standard input"],
      ]),
    )
    .option("-o, --format <format>", "json (default: the file's own format)")
    .option("--extract <path>", 'a dotted path (a.b[0]) or sops\' ["a"]["b"][0]')
    .option("--ignore-mac", "decrypt even when the MAC is missing or does not match")
    .option("--input-type <format>", "yaml, json, dotenv, ini or binary (default: from the extension)")
    .action(async (file: string, o: Common & { format?: string; extract?: string }) => {
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

  secrets
    .command("edit <file>")
    .description("decrypt into $SOPS_EDITOR/$EDITOR and re-encrypt; unchanged values keep their ciphertext")
    .addHelpText(
      "after",
      examples([
        ["strata secrets edit environments/production/database.sops.yaml", "in $SOPS_EDITOR, else $EDITOR"],
        ["EDITOR=nano strata secrets edit environments/staging/http.sops.yaml", "with a given editor"],
      ]),
    )
    .option("--ignore-mac", "open even when the MAC is missing or does not match")
    .option("--input-type <format>", "yaml, json, dotenv, ini or binary (default: from the extension)")
    .action(async (file: string, o: Common) => {
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

  secrets
    .command("set <file> <path> [value]")
    .description(
      'set one value (JSON, falling back to a string) at a dotted or ["a"]["b"] path; a missing file is created for its .sops.yaml creation rule',
    )
    .addHelpText(
      "after",
      examples([
        [
          "strata secrets set environments/production/database.sops.yaml password --value-stdin < pw.txt",
          "the value never appears in your shell history",
        ],
        [
          "strata secrets set environments/production/http.sops.yaml 'tls.key_id' '\"k-2024\"'",
          "a JSON string at a nested path",
        ],
      ]),
    )
    .option("--value-stdin", "read the value from standard input")
    .option("--ignore-mac", "open even when the MAC is missing or does not match")
    .option("--input-type <format>", "yaml, json, dotenv, ini or binary (default: from the extension)")
    .action(async (file: string, path: string, value: string | undefined, o: Common & { valueStdin?: boolean }) => {
      if (o.valueStdin && value !== undefined)
        throw new StrataError(
          "invalid-argument",
          "give the value either as an argument or with --value-stdin, not both",
        );
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

  secrets
    .command("rotate <file>")
    .description("re-encrypt everything under a new data key (for the file's recipients, plus any --add-age/--add-pgp)")
    .addHelpText(
      "after",
      examples([
        ["strata secrets rotate -i environments/production/database.sops.yaml", "a new data key, same recipients"],
        [
          "strata secrets rotate -i --add-age age1... environments/production/database.sops.yaml",
          "and one more recipient",
        ],
      ]),
    )
    .option("-i, --in-place", "write the result over the file (default: print it)")
    .option("--add-age <recipient>", "also encrypt for this age recipient", collectList, [])
    .option("--add-pgp <fingerprint>", "also encrypt for this PGP key", collectList, [])
    .option("--ignore-mac", "rotate even when the MAC is missing or does not match")
    .option("--input-type <format>", "yaml, json, dotenv, ini or binary (default: from the extension)")
    .action(async (file: string, o: Common & { inPlace?: boolean; addAge: string[]; addPgp: string[] }) => {
      const { rotateSecrets } = await import("../../app/secrets/rotate.js");
      const r = await rotateSecrets({
        file,
        cwd,
        env,
        addAge: o.addAge,
        addPgp: o.addPgp,
        ...(o.inPlace ? { inPlace: true } : {}),
        ...(o.ignoreMac ? { ignoreMac: true } : {}),
        ...(o.inputType ? { inputType: o.inputType } : {}),
      });
      if (r.written) log(`rotated the data key of ${file}`);
      else printData(r.text);
    });

  secrets
    .command("updatekeys <file>")
    .description("re-wrap the data key for the recipients the .sops.yaml creation rules give now")
    .addHelpText(
      "after",
      examples([
        ["strata secrets updatekeys environments/production/database.sops.yaml", "after editing .sops.yaml"],
        ['for f in environments/*/*.sops.yaml; do strata secrets updatekeys -y "$f"; done', "every file"],
      ]),
    )
    .option("--config <path>", "the .sops.yaml to use")
    .option("-y, --yes", "accepted for sops compatibility (strata never prompts)")
    .option("--input-type <format>", "yaml, json, dotenv, ini or binary (default: from the extension)")
    .action(async (file: string, o: { config?: string; inputType?: string }) => {
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

  const status = secrets
    .command("status <file>")
    .description(
      "exit 0 when the file is encrypted, 1 when it is not, 2 when it cannot be read (FILE -: standard input)",
    )
    .addHelpText(
      "after",
      examples([
        ["strata secrets status environments/production/database.sops.yaml", "exit 0: encrypted"],
        ["git ls-files '*.sops.yaml' | xargs -n1 strata secrets status", "a pre-commit check: no plaintext committed"],
      ]),
    )
    .option("--input-type <format>", "yaml, json, dotenv, ini or binary (default: from the extension)");
  addFormatOption(status, ["text", "json"], "text");
  status.action(async (file: string, o: { inputType?: string; format?: string }) => {
    const { readSecretsStatus } = await import("../../app/secrets/status.js");
    const s = await readSecretsStatus(file, cwd, o.inputType);
    process.exitCode = s.state === "encrypted" ? EXIT.ok : s.state === "plaintext" ? EXIT.findings : EXIT.usage;
    if (o.format === "json") printData(printJson({ schemaVersion: 1, file, ...s }));
    else if (s.state === "encrypted") print(`${file}: encrypted`);
    else if (s.state === "plaintext") print(`${file}: not encrypted`);
    else log(`${file}: unreadable: ${s.reason}`);
  });
}
