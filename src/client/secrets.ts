/**
 * Opening a snapshot's `secrets` member with the service's age identities: the data key is unwrapped with
 * age-encryption (loaded only when a snapshot has secrets), and the core opens the SOPS document with its
 * MAC checked, all in memory. Errors name versions and paths, never a value.
 */
import { StrataError } from "../core/findings.js";
import type { JsonObject } from "../core/json.js";
import { openSnapshotSecrets as openWithCore } from "../core/snapshot/secrets.js";
import type { RejectionCode } from "../core/protocol/codes.js";
import { StrataClientError } from "./errors.js";

async function unwrapAge(enc: string, identities: readonly string[]): Promise<Uint8Array> {
  const { armor, Decrypter } = await import("age-encryption");
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  return d.decrypt(armor.decode(enc));
}

const CODES: Partial<Record<string, RejectionCode>> = {
  "decryption-failed": "decryption-failed",
  "mac-mismatch": "mac-mismatch",
  "mac-missing": "mac-mismatch",
  "invalid-snapshot": "invalid-snapshot",
};

/** Decrypts a snapshot's `secrets` and checks their MAC; throws the rejection (`decryption-failed`, `mac-mismatch`, `invalid-snapshot`). */
export async function openSnapshotSecrets(
  secrets: JsonObject,
  identities: readonly string[],
  version: number,
): Promise<JsonObject> {
  if (identities.length === 0) {
    throw new StrataClientError(
      "decryption-failed",
      `snapshot v${version} has secrets but this service has no age identity (identity, SOPS_AGE_KEY or SOPS_AGE_KEY_FILE)`,
      { version },
    );
  }
  try {
    return (await openWithCore(secrets, ({ enc }) => unwrapAge(enc, identities), `the secrets of snapshot v${version}`))
      .values;
  } catch (cause) {
    const code = cause instanceof StrataError ? CODES[cause.code] : undefined;
    if (code === undefined) throw cause;
    // The core's message names the document and the path that failed, never a value.
    throw new StrataClientError(code, (cause as Error).message, { version, cause });
  }
}
