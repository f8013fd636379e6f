import { StrataError } from "../../core/findings.js";
import { dirname, resolve } from "node:path";
import { readTextFile, writeFileInside } from "../../io/fs/files.js";
import { generateSigningKey, parseSigningKey, type PublicKey, type SigningKey } from "../../core/snapshot/index.js";
import { loadTrustedKeys, readDistributionSettings } from "./settings.js";

/** `strata keys generate`: writes the PKCS#8 PEM private key (0600, never over an existing file). */
export async function generateKeys(options: {
  out: string;
}): Promise<{ out: string; publicKey: string; keyid: string }> {
  const { pem, publicKey } = generateSigningKey();
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
  return { out: options.out, publicKey: publicKey.text, keyid: publicKey.keyid };
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
  repoDir: string;
  signingKey: SigningKey;
}): Promise<PublicKey[]> {
  const configured =
    options.file !== undefined || (await readDistributionSettings(options.repoDir)).trustedKeys.length > 0
      ? await loadTrustedKeys({ file: options.file, repoDir: options.repoDir })
      : [];
  const own = options.signingKey.publicKey;
  return configured.some((k) => k.keyid === own.keyid) ? configured : [...configured, own];
}
