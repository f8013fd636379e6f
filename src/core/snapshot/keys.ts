import { createPrivateKey, createPublicKey, generateKeyPairSync, type KeyObject } from "node:crypto";
import { StrataError } from "../findings.js";
import { sha256Hex } from "./canonical.js";

/** docs/distribution.md: a public key is written `ed25519:<standard base64 of the 32 raw bytes>`. */
const PUBLIC_KEY_PREFIX = "ed25519:";

// The DER SubjectPublicKeyInfo of an Ed25519 key is this fixed 12-byte header followed by the raw key.
const SPKI_PREFIX = Buffer.from("302a300506032b6570032100", "hex");

/** A trusted public key, ready to verify with. */
export interface PublicKey {
  /** `ed25519:<base64>` */
  text: string;
  /** Lowercase hex SHA-256 of the 32 raw bytes. */
  keyid: string;
  key: KeyObject;
}

/** A private signing key and its public half. */
export interface SigningKey {
  privateKey: KeyObject;
  publicKey: PublicKey;
}

function rawPublicKey(key: KeyObject): Buffer {
  const der = key.export({ format: "der", type: "spki" });
  return der.subarray(der.length - 32);
}

function publicKeyFromRaw(raw: Buffer, text: string): PublicKey {
  const key = createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: "der", type: "spki" });
  return { text, keyid: sha256Hex(raw), key };
}

export function formatPublicKey(key: KeyObject): string {
  return PUBLIC_KEY_PREFIX + rawPublicKey(key).toString("base64");
}

/** Parses `ed25519:<base64>`; throws `invalid-argument` naming the offending text. */
export function parsePublicKey(text: string): PublicKey {
  const trimmed = text.trim();
  const b64 = trimmed.startsWith(PUBLIC_KEY_PREFIX) ? trimmed.slice(PUBLIC_KEY_PREFIX.length) : null;
  const raw = b64 !== null && /^[A-Za-z0-9+/]{43}=$/.test(b64) ? Buffer.from(b64, "base64") : null;
  if (raw === null || raw.length !== 32) {
    throw new StrataError("invalid-argument", `not an ed25519 public key: ${JSON.stringify(trimmed.slice(0, 80))}`, {
      hint: "write public keys as ed25519:<standard base64 of the 32 raw bytes>, as `strata keys generate` prints them",
    });
  }
  return publicKeyFromRaw(raw, PUBLIC_KEY_PREFIX + raw.toString("base64"));
}

/** One key a line; blank lines and `#` comments are ignored (the --trusted-keys file). */
export function parseTrustedKeys(text: string): PublicKey[] {
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*$/, "").trim())
    .filter((l) => l !== "")
    .map(parsePublicKey);
}

/** Parses a PKCS#8 PEM Ed25519 private key (the `--signing-key` file or `STRATA_SIGNING_KEY`). */
export function parseSigningKey(pem: string): SigningKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey({ key: pem, format: "pem" });
  } catch (cause) {
    throw new StrataError("invalid-argument", "the signing key is not a PEM private key", {
      cause,
      hint: "create one with `strata keys generate --out FILE`",
    });
  }
  if (privateKey.asymmetricKeyType !== "ed25519") {
    throw new StrataError(
      "invalid-argument",
      `the signing key is ${privateKey.asymmetricKeyType ?? "unknown"}, not ed25519`,
      {
        hint: "create one with `strata keys generate --out FILE`",
      },
    );
  }
  const raw = rawPublicKey(createPublicKey(privateKey));
  return { privateKey, publicKey: publicKeyFromRaw(raw, PUBLIC_KEY_PREFIX + raw.toString("base64")) };
}

/** A new key pair: the PKCS#8 PEM private key and the public key text. */
export function generateSigningKey(): { pem: string; publicKey: PublicKey } {
  const { privateKey } = generateKeyPairSync("ed25519");
  const pem = privateKey.export({ format: "pem", type: "pkcs8" }).toString();
  return { pem, publicKey: parseSigningKey(pem).publicKey };
}
