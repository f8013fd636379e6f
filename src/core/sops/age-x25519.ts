/**
 * Opening an age file (age-encryption.org/v1) for X25519 identities with Node's own crypto: X25519, HKDF-SHA-256,
 * HMAC-SHA-256 and ChaCha20-Poly1305, as the age specification composes them. A SOPS file's age data key is a
 * 32-byte age file, and loading age-encryption with the curves, hashes and post-quantum code it imports costs
 * more than the rest of `strata secrets decrypt` together.
 *
 * This is a fast path, not a second implementation to trust: it answers only when an X25519 identity opens a
 * stanza, the header MAC verifies and the payload authenticates, and says null for anything else (another kind
 * of stanza or identity, an scrypt file, a header it does not read exactly, a wrong key, a payload longer than
 * one chunk). The caller then asks age-encryption, whose answer and errors are the reference.
 */
import {
  createDecipheriv,
  createHmac,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  hkdfSync,
  timingSafeEqual,
  type KeyObject,
} from "node:crypto";

const BECH32_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l";
const BECH32_GENERATORS = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
/** DER prefixes of an X25519 key in PKCS #8 and SubjectPublicKeyInfo form, followed by the 32 raw bytes. */
const PKCS8_X25519 = Buffer.from("302e020100300506032b656e04220420", "hex");
const SPKI_X25519 = Buffer.from("302a300506032b656e032100", "hex");
const ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----";
const ARMOR_END = "-----END AGE ENCRYPTED FILE-----";
const CHUNK = 64 * 1024;
const TAG = 16;

/** Bech32 (BIP 173, no length limit, as age uses it): the prefix and the data as bytes, or null. */
export function bech32Decode(text: string): { prefix: string; bytes: Uint8Array } | null {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) return null;
  const s = text.toLowerCase();
  const sep = s.lastIndexOf("1");
  if (sep < 1 || sep + 7 > s.length) return null;
  const prefix = s.slice(0, sep);
  const values: number[] = [];
  for (const ch of s.slice(sep + 1)) {
    const v = BECH32_CHARSET.indexOf(ch);
    if (v < 0) return null;
    values.push(v);
  }
  let chk = 1;
  const step = (v: number): void => {
    const top = chk >>> 25;
    chk = ((chk & 0x1ffffff) << 5) ^ v;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk ^= BECH32_GENERATORS[i]!;
  };
  for (let i = 0; i < prefix.length; i++) step(prefix.charCodeAt(i) >>> 5);
  step(0);
  for (let i = 0; i < prefix.length; i++) step(prefix.charCodeAt(i) & 31);
  for (const v of values) step(v);
  if (chk !== 1) return null;
  // 5-bit groups to bytes; the padding must be fewer than 5 bits, all zero.
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const v of values.slice(0, -6)) {
    acc = (acc << 5) | v;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >>> bits) & 0xff);
    }
  }
  if (bits >= 5 || (acc & ((1 << bits) - 1)) !== 0) return null;
  return { prefix, bytes: Uint8Array.from(out) };
}

interface X25519Identity {
  privateKey: KeyObject;
  /** The identity's own recipient (public key), 32 bytes. */
  recipient: Buffer;
}

/** An `AGE-SECRET-KEY-1…` identity, or null for any other kind (post-quantum, plugin) or a malformed one. */
function x25519Identity(text: string): X25519Identity | null {
  if (!text.startsWith("AGE-SECRET-KEY-1")) return null;
  const decoded = bech32Decode(text);
  if (decoded === null || decoded.prefix !== "age-secret-key-" || decoded.bytes.length !== 32) return null;
  const privateKey = createPrivateKey({
    key: Buffer.concat([PKCS8_X25519, decoded.bytes]),
    format: "der",
    type: "pkcs8",
  });
  const recipient = createPublicKey(privateKey).export({ format: "der", type: "spki" }).subarray(SPKI_X25519.length);
  return { privateKey, recipient };
}

/** Base64 without padding, canonical only (what age writes), or null. */
function base64NoPad(text: string): Buffer | null {
  if (!/^[A-Za-z0-9+/]*$/.test(text) || text.length % 4 === 1) return null;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64").replace(/=+$/, "") === text ? bytes : null;
}

/** The ASCII armor, as strictly as age-encryption reads it: the binary file, or null. */
export function armorDecode(text: string): Buffer | null {
  const lines = text.trim().replaceAll("\r\n", "\n").split("\n");
  if (lines.shift() !== ARMOR_BEGIN || lines.pop() !== ARMOR_END || lines.length === 0) return null;
  for (const [i, l] of lines.entries()) {
    const lastLine = i === lines.length - 1;
    if (lastLine ? l.length === 0 || l.length > 64 || l.length % 4 !== 0 : l.length !== 64) return null;
    if (!/^[A-Za-z0-9+/=]+$/.test(l)) return null;
  }
  const joined = lines.join("");
  const bytes = Buffer.from(joined, "base64");
  return bytes.toString("base64") === joined ? bytes : null;
}

interface Stanza {
  args: string[];
  body: Buffer;
}

/** The header of a binary age file: stanzas, the bytes the MAC covers, the MAC, the payload; or null. */
function parseHeader(file: Buffer): { stanzas: Stanza[]; covered: Buffer; mac: Buffer; payload: Buffer } | null {
  let pos = 0;
  const readLine = (): string | null => {
    const end = file.indexOf(0x0a, pos);
    if (end < 0) return null;
    const line = file.toString("latin1", pos, end);
    pos = end + 1;
    return /^[\x20-\x7e]*$/.test(line) ? line : null;
  };
  if (readLine() !== "age-encryption.org/v1") return null;
  const stanzas: Stanza[] = [];
  for (;;) {
    const line = readLine();
    if (line === null) return null;
    if (line.startsWith("--- ")) {
      const mac = base64NoPad(line.slice(4));
      if (mac === null || mac.length !== 32) return null;
      // The MAC covers the header up to and including "---", not the space after it.
      return { stanzas, covered: file.subarray(0, pos - 1 - line.length + 3), mac, payload: file.subarray(pos) };
    }
    const args = line.split(" ");
    if (args.shift() !== "->" || args.length === 0 || args.some((a) => a === "")) return null;
    const body: Buffer[] = [];
    for (;;) {
      const b = readLine();
      const bytes = b === null || b.length > 64 ? null : base64NoPad(b);
      if (bytes === null || bytes.length > 48) return null;
      body.push(bytes);
      if (bytes.length < 48) break;
    }
    stanzas.push({ args, body: Buffer.concat(body) });
  }
}

const hkdf = (ikm: Uint8Array, salt: Uint8Array, info: string): Buffer =>
  Buffer.from(hkdfSync("sha256", ikm, salt, info, 32));

/** ChaCha20-Poly1305 opening, or null when the tag does not verify. */
function open(key: Buffer, nonce: Buffer, sealed: Buffer): Buffer | null {
  if (sealed.length < TAG) return null;
  try {
    const d = createDecipheriv("chacha20-poly1305", key, nonce, { authTagLength: TAG });
    d.setAuthTag(sealed.subarray(sealed.length - TAG));
    return Buffer.concat([d.update(sealed.subarray(0, sealed.length - TAG)), d.final()]);
  } catch {
    return null;
  }
}

/** The file key of an X25519 stanza for one identity, or null. */
function unwrap(stanza: Stanza, id: X25519Identity): Buffer | null {
  if (stanza.args.length !== 2 || stanza.body.length !== 32) return null;
  const share = base64NoPad(stanza.args[1]!);
  if (share === null || share.length !== 32) return null;
  let shared: Buffer;
  try {
    const publicKey = createPublicKey({ key: Buffer.concat([SPKI_X25519, share]), format: "der", type: "spki" });
    shared = diffieHellman({ privateKey: id.privateKey, publicKey });
  } catch {
    return null; // a low-order share: OpenSSL refuses the all-zero secret
  }
  if (shared.every((b) => b === 0)) return null;
  const key = hkdf(shared, Buffer.concat([share, id.recipient]), "age-encryption.org/v1/X25519");
  return open(key, Buffer.alloc(12), stanza.body);
}

/**
 * The plaintext of an armored age file for these identities through Node's crypto, or null when this path
 * cannot answer (see the module comment): then ask age-encryption.
 */
export function openAgeX25519(armored: string, identityTexts: readonly string[]): Uint8Array | null {
  const file = armorDecode(armored);
  const header = file && parseHeader(file);
  if (!header || header.stanzas.some((s) => s.args[0] === "scrypt")) return null;
  const ids = identityTexts.map(x25519Identity).filter((i): i is X25519Identity => i !== null);
  let fileKey: Buffer | null = null;
  for (const id of ids) {
    for (const s of header.stanzas) if (s.args[0] === "X25519" && (fileKey = unwrap(s, id)) !== null) break;
    if (fileKey !== null) break;
  }
  if (fileKey === null || fileKey.length !== 16) return null;
  const mac = createHmac("sha256", hkdf(fileKey, Buffer.alloc(0), "header"))
    .update(header.covered)
    .digest();
  if (!timingSafeEqual(mac, header.mac)) return null;
  // The payload: a 16-byte nonce, then chunks of 64 KiB sealed with a counter nonce; a data key is one chunk.
  const { payload } = header;
  if (payload.length < 16 + TAG || payload.length > 16 + CHUNK + TAG) return null;
  const nonce = Buffer.alloc(12);
  nonce[11] = 1; // chunk 0, the last
  const plain = open(hkdf(fileKey, payload.subarray(0, 16), "payload"), nonce, payload.subarray(16));
  // An empty last chunk is allowed only as the whole of an empty file.
  return plain === null ? null : new Uint8Array(plain);
}
