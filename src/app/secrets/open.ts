/**
 * Opening a SOPS file: parse, recover the data key, decrypt, check the MAC. Every failure is a
 * StrataError (`decryption-failed`, `mac-mismatch`, `mac-missing`) that names the file, never a value;
 * every decrypted value is registered with the redactor before anything else sees it.
 */
import { errorAt, StrataError } from "../../core/findings.js";
import { redact, registerSecret } from "../../core/redact.js";
import type { IvCache } from "../../core/sops/cipher.js";
import { decryptBranches, TreeDecryptError, verifyMac } from "../../core/sops/engine.js";
import { checkSopsVersion, type Metadata } from "../../core/sops/metadata.js";
import { MetadataNotFoundError, SopsFormatError, SopsLimitError } from "../../core/sops/stores/errors.js";
import { stores, type EncryptedDocument, type SopsFormat } from "../../core/sops/stores/index.js";
import { Comment, RawStr, SopsTime, type Branch, type Leaf } from "../../core/sops/tree.js";
import { DataKeyError, decryptDataKey } from "../../io/keys/index.js";
import { parseKeyPath, type KeyPath } from "../../core/sops/document.js";
import { readSecretsFile, storeFormat } from "./files.js";

export interface OpenOptions {
  /** For messages: the file as the user named it. */
  file: string;
  ignoreMac?: boolean;
  env: NodeJS.ProcessEnv;
  ageIdentities?: () => Promise<string[]>;
  /** Told about problems that do not stop the file from opening (a sops version other than 3.x). */
  onWarning?: (message: string) => void;
}

export interface OpenedFile {
  format: SopsFormat;
  encrypted: EncryptedDocument;
  metadata: Metadata;
  plain: Branch[];
  dataKey: Uint8Array;
  ivCache: IvCache;
}

/** A YAML limit hit while reading a SOPS file: a located `yaml-limit` (exit 1), as the values reader reports it. */
export function yamlLimitError(e: SopsLimitError, file: string): StrataError {
  return errorAt("yaml-limit", { file, line: e.line, column: e.column }, e.message, {
    hint: "anchors and aliases are limited to stop alias bombs; write the values out",
    cause: e,
  });
}

/** Parses an encrypted file, with format problems as `decryption-failed` (a SOPS file that does not parse cannot be opened). */
export function parseEncryptedFile(text: string, format: SopsFormat, file: string): EncryptedDocument {
  try {
    return stores[format].parseEncrypted(text);
  } catch (e) {
    if (e instanceof MetadataNotFoundError) {
      throw new StrataError("decryption-failed", `${file}: not a SOPS file (no sops metadata)`, {
        hint: "encrypt it with `strata secrets encrypt`",
        cause: e,
      });
    }
    if (e instanceof SopsLimitError) throw yamlLimitError(e, file);
    if (e instanceof SopsFormatError)
      throw new StrataError("decryption-failed", `${file}: cannot read the SOPS ${format} file: ${redact(e.message)}`, {
        cause: e,
      });
    throw e;
  }
}

/** `:line:column` of the sops metadata in a file's text, when it can be found (for messages). */
function metadataLocation(text: string, format: SopsFormat): string {
  const re = format === "yaml" ? /^sops:/m : format === "json" ? /"sops"\s*:/ : /^sops_version=|^\[sops\]/m;
  const m = re.exec(text);
  if (!m) return "";
  const before = text.slice(0, m.index);
  const line = before.split("\n").length;
  return `:${line}:${m.index - before.lastIndexOf("\n")}`;
}

function registerLeaf(v: Leaf): void {
  if (v instanceof Comment) registerSecret(v.value);
  else if (v instanceof SopsTime) registerSecret(v.text);
  else if (v instanceof Uint8Array) registerSecret(Buffer.from(v).toString("utf8"));
  else if (v instanceof RawStr) registerSecret(Buffer.from(v.bytes).toString("utf8"));
  else if (v !== null && typeof v === "object") registerSecret(String(v.value));
  else registerSecret(v);
}

export async function recoverDataKey(md: Metadata, options: OpenOptions): Promise<Uint8Array> {
  try {
    return await decryptDataKey(md, {
      env: options.env,
      ...(options.ageIdentities ? { ageIdentities: options.ageIdentities } : {}),
    });
  } catch (e) {
    if (e instanceof DataKeyError) {
      throw new StrataError("decryption-failed", `${options.file}: ${e.message}`, {
        hint: "provide a key: SOPS_AGE_KEY_FILE / SOPS_AGE_KEY / SOPS_AGE_KEY_CMD / sops/age/keys.txt for age, GNUPGHOME for PGP, AWS credentials for KMS",
        cause: e,
      });
    }
    throw e;
  }
}

/** What the secrets commands that change or print a file (decrypt, edit, rotate, set) are told about it. */
export interface SecretsFileOptions {
  /** As the user named it, relative to `cwd`. */
  file: string;
  cwd: string;
  env: NodeJS.ProcessEnv;
  ignoreMac?: boolean;
  /** `--input-type`; otherwise the format follows the file name. */
  inputType?: string;
  onWarning?: (message: string) => void;
}

/** Reads a SOPS file and opens it: the one prologue of decrypt, edit, rotate and set. */
export async function openSecretsFile(options: SecretsFileOptions): Promise<OpenedFile> {
  const text = await readSecretsFile(options.file, options.cwd);
  const format = storeFormat(options.file, options.inputType, text);
  return openSopsText(text, format, {
    file: options.file,
    env: options.env,
    ignoreMac: options.ignoreMac ?? false,
    ...(options.onWarning ? { onWarning: options.onWarning } : {}),
  });
}

/** A key path argument (`a.b[0]` or `["a"]["b"][0]`), or `invalid-argument`. */
export function parseKeyPathArgument(text: string): KeyPath {
  const path = parseKeyPath(text);
  if (path === null)
    throw new StrataError(
      "invalid-argument",
      `cannot parse the key path ${JSON.stringify(text)} (use a.b[0] or ["a"]["b"][0])`,
    );
  return path;
}

export async function openSopsText(text: string, format: SopsFormat, options: OpenOptions): Promise<OpenedFile> {
  const encrypted = parseEncryptedFile(text, format, options.file);
  const md = encrypted.metadata;
  const version = checkSopsVersion(md.version);
  if (version?.severity === "error") {
    throw new StrataError("invalid-sops-file", `${options.file}${metadataLocation(text, format)}: ${version.message}`, {
      hint: "restore the file from git, or re-create it with `strata secrets encrypt` or sops",
    });
  }
  if (version)
    options.onWarning?.(`${options.file}${metadataLocation(text, format)}: warning [sops-version] ${version.message}`);
  const dataKey = await recoverDataKey(md, options);
  let decrypted;
  try {
    decrypted = decryptBranches(encrypted.branches, md, dataKey);
  } catch (e) {
    if (e instanceof TreeDecryptError || e instanceof SopsFormatError)
      throw new StrataError("decryption-failed", `${options.file}: ${e.message}`, { cause: e });
    throw e;
  }
  for (const v of decrypted.plaintexts) registerLeaf(v);
  const mac = verifyMac(md, dataKey, decrypted.mac, decrypted.ivCache);
  if (!mac.ok && !options.ignoreMac) {
    if (mac.reason === "missing") {
      throw new StrataError("mac-missing", `${options.file}: the file has no MAC, so its integrity cannot be checked`, {
        hint: "re-encrypt it, or pass --ignore-mac if you trust it",
      });
    }
    throw new StrataError(
      "mac-mismatch",
      `${options.file}: the MAC does not match the content (${mac.reason === "mismatch" ? "the file was modified outside sops" : "the stored MAC does not open"})`,
      {
        hint: "the file may have been tampered with; restore it from git, or pass --ignore-mac if you trust it",
      },
    );
  }
  return { format, encrypted, metadata: md, plain: decrypted.branches, dataKey, ivCache: decrypted.ivCache };
}
