/** `secrets encrypt`: a plaintext file to SOPS, for the recipients of the flags or of `.sops.yaml`. */
import { randomBytes } from "node:crypto";
import { StrataError } from "../../core/findings.js";
import { SOPS_VERSION, type Metadata } from "../../core/sops/metadata.js";
import { SopsFormatError, SopsLimitError } from "../../core/sops/stores/errors.js";
import { parseBinaryPlain, stores, type SopsFormat } from "../../core/sops/stores/index.js";
import type { Branch } from "../../core/sops/tree.js";
import { encryptDataKey } from "../../io/keys/index.js";
import {
  readSecretsBytes,
  readSecretsFile,
  refuseStandardStreamInPlace,
  storeFormat,
  writeSecretsFile,
} from "./files.js";
import { resolveRecipients, type RecipientFlags, type Recipients } from "./recipients.js";
import { yamlLimitError } from "./open.js";
import { sealSopsText } from "./seal.js";

export interface EncryptOptions extends RecipientFlags {
  file: string;
  env: NodeJS.ProcessEnv;
  inPlace?: boolean;
  inputType?: string;
}

function isAlreadyEncrypted(text: string, format: SopsFormat): boolean {
  try {
    stores[format].parseEncrypted(text);
    return true;
  } catch (e) {
    // Not encrypted, or not even parseable: parsing it as plaintext reports the problem.
    if (e instanceof SopsFormatError) return false;
    throw e;
  }
}

export function parsePlainText(text: string, format: SopsFormat, file: string): Branch[] {
  try {
    return stores[format].parsePlain(text);
  } catch (e) {
    if (e instanceof SopsLimitError) throw yamlLimitError(e, file);
    if (e instanceof SopsFormatError) throw new StrataError("invalid-argument", `${file}: ${e.message}`, { cause: e });
    throw e;
  }
}

/** Encrypts plaintext branches for recipients: a new data key, wrapped for every key group. */
export async function encryptBranchesFor(
  plain: Branch[],
  format: SopsFormat,
  recipients: Recipients,
  env: NodeJS.ProcessEnv,
  file: string,
): Promise<string> {
  const dataKey = randomBytes(32);
  let keyGroups;
  try {
    keyGroups = await encryptDataKey(dataKey, recipients.groups, recipients.shamirThreshold, env);
  } catch (e) {
    throw new StrataError("invalid-argument", `${file}: cannot wrap the data key: ${(e as Error).message}`, {
      cause: e,
    });
  }
  const metadata: Metadata = {
    ...recipients.rules,
    keyGroups,
    shamirThreshold: recipients.groups.length > 1 ? recipients.shamirThreshold : 0,
    lastModified: "",
    mac: "",
    version: SOPS_VERSION,
  };
  return sealSopsText(plain, format, metadata, dataKey, { file });
}

export async function encryptSecrets(options: EncryptOptions): Promise<{ text: string; written: boolean }> {
  if (options.inPlace) refuseStandardStreamInPlace(options.file);
  let format = storeFormat(options.file, options.inputType);
  let plain: Branch[];
  if (format === "binary") plain = parseBinaryPlain(await readSecretsBytes(options.file, options.cwd));
  else {
    const text = await readSecretsFile(options.file, options.cwd);
    format = storeFormat(options.file, options.inputType, text);
    if (isAlreadyEncrypted(text, format)) {
      throw new StrataError("invalid-argument", `${options.file} is already encrypted`, {
        hint: "use `strata secrets edit`, `set` or `rotate`",
      });
    }
    plain = parsePlainText(text, format, options.file);
  }
  const recipients = await resolveRecipients(options.file, options);
  const out = await encryptBranchesFor(plain, format, recipients, options.env, options.file);
  if (options.inPlace) {
    await writeSecretsFile(options.file, options.cwd, out);
    return { text: out, written: true };
  }
  return { text: out, written: false };
}
