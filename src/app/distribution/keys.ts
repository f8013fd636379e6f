import { dirname, join, resolve } from "node:path";
import { isStrataError, StrataError } from "../../core/findings.js";
import { addTrustedKey } from "../../core/settings/edit.js";
import { SETTINGS_FILE } from "../../core/settings/settings.js";
import { readTextFile, writeFileInside } from "../../io/fs/files.js";
import { openWorktree } from "../worktree.js";
import { generateSigningKey, parseSigningKey, type PublicKey, type SigningKey } from "../../core/snapshot/index.js";
import { loadTrustedKeys, readDistributionSettings, type DistributionSettings } from "./settings.js";

export interface GeneratedKeys {
  /** The file the private key was written to; null when it was returned instead (`--out -`). */
  out: string | null;
  /** The private key's PEM text when it was not written to a file (the caller prints it), else null. */
  pem: string | null;
  publicKey: string;
  keyid: string;
  /** The strata.yaml whose signing.trusted_keys now lists the public key, or null (not asked to). */
  trustedIn: string | null;
}

/**
 * `strata keys generate`: writes the PKCS#8 PEM private key (0600, never over an existing file) and, given
 * a repository root, adds the public key to its strata.yaml's `signing.trusted_keys` (an edit of the text:
 * comments and layout stay). strata.yaml is checked before anything is written, so a file that cannot take
 * the key leaves no key behind either.
 */
export async function generateKeys(options: {
  /** Where to write the private key; null: return it instead. */
  out: string | null;
  trustIn?: string | null;
}): Promise<GeneratedKeys> {
  const { pem, publicKey } = generateSigningKey();
  let settings: { path: string; text: string } | null = null;
  if (options.trustIn) {
    const path = join(options.trustIn, SETTINGS_FILE);
    let original: string;
    try {
      original = await readTextFile(path);
    } catch (cause) {
      throw new StrataError("unreadable-file", `cannot read ${path}`, { cause });
    }
    const { text, added } = addTrustedKey(original, publicKey.text);
    if (added) settings = { path, text };
  }
  if (options.out !== null)
    try {
      // Never over anything that is there, a link included: the key goes nowhere but where it was named.
      await writeFileInside(options.out, pem, {
        within: dirname(resolve(options.out)),
        exclusive: true,
        mode: 0o600,
        label: options.out,
      });
    } catch (error) {
      const cause = (error as { cause?: NodeJS.ErrnoException }).cause;
      if (cause?.code === "EEXIST")
        throw new StrataError("invalid-argument", `${options.out} exists: refusing to overwrite a key`, { cause });
      throw error;
    }
  if (settings && options.trustIn) await writeFileInside(settings.path, settings.text, { within: options.trustIn });
  return {
    out: options.out,
    pem: options.out === null ? pem : null,
    publicKey: publicKey.text,
    keyid: publicKey.keyid,
    trustedIn: options.trustIn ? join(options.trustIn, SETTINGS_FILE) : null,
  };
}

/** The repository `keys generate` trusts its key in: `--repo DIR`, else the one around the working directory (or none). */
export function signingRepository(options: { repo?: string | undefined; cwd: string }): string | null {
  if (options.repo !== undefined) return openWorktree(options.repo).root;
  try {
    return openWorktree(options.cwd).root;
  } catch (error) {
    if (isStrataError(error) && error.code === "missing-repository") return null;
    throw error;
  }
}

/** `--signing-key FILE`, else `STRATA_SIGNING_KEY` (the PEM text). */
export async function loadSigningKey(options: {
  file?: string | undefined;
  env?: NodeJS.ProcessEnv;
}): Promise<SigningKey> {
  if (options.file !== undefined) {
    let pem: string;
    try {
      pem = await readTextFile(options.file);
    } catch (cause) {
      throw new StrataError("unreadable-file", `cannot read the signing key ${options.file}`, { cause });
    }
    return parseSigningKey(pem);
  }
  const pem = (options.env ?? process.env).STRATA_SIGNING_KEY;
  if (pem === undefined || pem.trim() === "") {
    throw new StrataError("invalid-argument", "no signing key", {
      hint: "pass --signing-key FILE or set STRATA_SIGNING_KEY to the PEM text (create one with `strata keys generate`)",
    });
  }
  if (!pem.includes("-----BEGIN"))
    // The commonest mistake: the variable set to the key's file name rather than its text.
    throw new StrataError(
      "invalid-argument",
      "STRATA_SIGNING_KEY is not a PEM key (it holds the key's text, not a file name)",
      {
        hint: 'pass the file as --signing-key FILE, or set STRATA_SIGNING_KEY="$(cat FILE)"',
      },
    );
  return parseSigningKey(pem);
}

/**
 * The keys `push`, `rollback` and `snapshot` require of the endpoint's current version before building on
 * it: `--trusted-keys` or `signing.trusted_keys`, and always the signing key's own public key (a version it
 * signed is one this signer made; anyone holding the key could sign anything anyway). A repository without
 * `signing.trusted_keys` therefore trusts only its own signer.
 */
export async function loadBuildTrustedKeys(options: {
  file?: string | undefined;
  /** The repository's settings: read here from `repoDir` unless the caller already has them. */
  settings?: DistributionSettings;
  repoDir?: string;
  signingKey: SigningKey;
}): Promise<PublicKey[]> {
  const settings =
    options.file !== undefined ? undefined : (options.settings ?? (await readDistributionSettings(options.repoDir!)));
  const configured =
    options.file !== undefined || settings!.trustedKeys.length > 0
      ? await loadTrustedKeys({ file: options.file, settings })
      : [];
  const own = options.signingKey.publicKey;
  return configured.some((k) => k.keyid === own.keyid) ? configured : [...configured, own];
}
