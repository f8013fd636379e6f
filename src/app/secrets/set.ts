/**
 * `secrets set FILE PATH VALUE`: VALUE is JSON, falling back to a string; other ciphertexts stay as they
 * were. A file that does not exist yet is created, encrypted for the `.sops.yaml` creation rule that
 * matches it (the first secret of an environment starts here).
 */
import { StrataError } from "../../core/findings.js";
import type { JsonValue } from "../../core/json.js";
import { jsonToTree, setAtPath, type KeyPath } from "../../core/sops/document.js";
import { registerSecret } from "../../core/redact.js";
import type { SopsFormat } from "../../core/sops/stores/index.js";
import { Branch, type TreeValue } from "../../core/sops/tree.js";
import { relative } from "node:path";
import { recipientNames } from "../../io/keys/index.js";
import { encryptBranchesFor } from "./encrypt.js";
import { refuseStandardStreamInPlace, secretsFileExists, storeFormat, writeSecretsFile } from "./files.js";
import { openSecretsFile, parseKeyPathArgument, type SecretsFileOptions } from "./open.js";
import { resolveRecipients } from "./recipients.js";
import { sealSopsText } from "./seal.js";

export interface SetOptions extends SecretsFileOptions {
  path: string;
  value: string;
}

/** A file `set` created: the creation rule and the recipients it was encrypted for. */
export interface CreatedFile {
  rule: string;
  recipients: string[];
}

function parseSetValue(text: string): JsonValue {
  try {
    return JSON.parse(text) as JsonValue;
  } catch {
    return text;
  }
}

/** Sets the value; returns what it created when the file did not exist, else null. */
export async function setSecret(options: SetOptions): Promise<CreatedFile | null> {
  refuseStandardStreamInPlace(options.file);
  const format = storeFormat(options.file, options.inputType);
  const path = parseKeyPathArgument(options.path);
  const value = parseSetValue(options.value);
  registerSecret(value);
  if (!(await secretsFileExists(options.file, options.cwd))) return createWithValue(options, format, path, value);
  const opened = await openSecretsFile(options);
  const tree = valueTree(value, format);
  const [first, ...rest] = opened.plain;
  let updated: Branch;
  try {
    updated = setAtPath(first ?? new Branch(), path, tree);
  } catch (e) {
    throw new StrataError("invalid-argument", `${options.file}: ${(e as Error).message}`, { cause: e });
  }
  const out = sealSopsText([updated, ...rest], format, opened.metadata, opened.dataKey, {
    file: options.file,
    ivCache: opened.ivCache,
  });
  await writeSecretsFile(options.file, options.cwd, out);
  return null;
}

function valueTree(value: JsonValue, format: SopsFormat): TreeValue {
  const tree = jsonToTree(value);
  // dotenv and INI hold strings only.
  if ((format === "dotenv" || format === "ini") && typeof value !== "string" && !(tree instanceof Branch))
    return JSON.stringify(value);
  return tree;
}

async function createWithValue(
  options: SetOptions,
  format: SopsFormat,
  path: KeyPath,
  value: JsonValue,
): Promise<CreatedFile> {
  if (format === "binary")
    throw new StrataError(
      "invalid-argument",
      `${options.file} does not exist, and set creates only YAML, JSON, dotenv and INI files`,
      { hint: "create it with `strata secrets encrypt`" },
    );
  // As `encrypt` does without flags: sops' environment variables stand in for them.
  const recipients = await resolveRecipients(options.file, { cwd: options.cwd, env: options.env });
  let doc: Branch;
  try {
    doc = setAtPath(new Branch(), path, valueTree(value, format));
  } catch (e) {
    throw new StrataError("invalid-argument", `${options.file}: ${(e as Error).message}`, { cause: e });
  }
  const out = await encryptBranchesFor([doc], format, recipients, options.env, options.file);
  await writeSecretsFile(options.file, options.cwd, out, { createDirectories: true });
  const rule = recipients.rule
    ? `creation rule ${recipients.rule.index} of ${relative(options.cwd, recipients.rule.configPath) || recipients.rule.configPath} (path_regex ${recipients.rule.pathRegex ?? "(any)"})`
    : "SOPS_AGE_RECIPIENTS / SOPS_PGP_FP";
  return { rule, recipients: recipients.groups.flatMap(recipientNames) };
}
