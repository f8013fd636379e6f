/**
 * The value cipher of sops (`aes/cipher.go`): AES-256-GCM under the data key, the path as additional data,
 * and the `ENC[AES256_GCM,data:…,iv:…,tag:…,type:…]` envelope. Pure functions: the IV source is passed in.
 */
import { createCipheriv, createDecipheriv } from "node:crypto";
import { formatFloatF } from "./go-format.js";
import { Comment, RawStr, SopsFloat, SopsInt, SopsTime, type Leaf } from "./tree.js";
import { parseGoTime } from "./yaml-scalars.js";

const ENC_RE = /^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]/;

export type ValueType = "str" | "int" | "float" | "bool" | "time" | "comment" | "bytes";

/** Thrown for values that do not open: the caller turns it into `decryption-failed` with the path. */
export class ValueCipherError extends Error {}

/** The bytes sops encrypts (and MACs) for a leaf, and its type tag. */
export function leafToBytes(v: Leaf): { bytes: Buffer; type: ValueType } {
  if (typeof v === "string") return { bytes: Buffer.from(v, "utf8"), type: "str" };
  if (typeof v === "boolean") return { bytes: Buffer.from(v ? "True" : "False"), type: "bool" };
  if (v instanceof SopsInt) return { bytes: Buffer.from(v.value.toString()), type: "int" };
  if (v instanceof SopsFloat) return { bytes: Buffer.from(formatFloatF(v.value)), type: "float" };
  if (v instanceof SopsTime) return { bytes: Buffer.from(v.text), type: "time" };
  if (v instanceof Comment) return { bytes: Buffer.from(v.value, "utf8"), type: "comment" };
  if (v instanceof Uint8Array) return { bytes: Buffer.from(v), type: "bytes" };
  if (v instanceof RawStr) return { bytes: Buffer.from(v.bytes), type: "str" };
  throw new ValueCipherError("cannot encrypt a null value");
}

function parseGoBool(s: string): boolean | null {
  if (["1", "t", "T", "TRUE", "true", "True"].includes(s)) return true;
  if (["0", "f", "F", "FALSE", "false", "False"].includes(s)) return false;
  return null;
}

const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Text as a string when it is valid UTF-8, else its raw bytes (Go strings are bytes). */
export function bytesToText(bytes: Uint8Array): string | RawStr {
  try {
    return strictUtf8.decode(bytes);
  } catch {
    return new RawStr(new Uint8Array(bytes));
  }
}

function bytesToLeaf(bytes: Buffer, type: string): Leaf {
  const s = bytes.toString("utf8");
  switch (type) {
    case "str":
      return bytesToText(bytes);
    case "comment":
      return new Comment(s);
    case "bytes":
      return new Uint8Array(bytes);
    case "int": {
      if (!/^[+-]?\d+$/.test(s)) throw new ValueCipherError("an int value does not parse");
      return new SopsInt(BigInt(s));
    }
    case "float": {
      const f = Number(s);
      if (s.trim() === "" || (Number.isNaN(f) && s !== "NaN"))
        throw new ValueCipherError("a float value does not parse");
      return new SopsFloat(f);
    }
    case "bool": {
      const b = parseGoBool(s);
      if (b === null) throw new ValueCipherError("a bool value does not parse");
      return b;
    }
    case "time": {
      const t = parseGoTime(s, true);
      if (t === null) throw new ValueCipherError("a time value does not parse");
      return t;
    }
    default:
      throw new ValueCipherError(`unknown value type ${JSON.stringify(type)}`);
  }
}

export interface DecryptedValue {
  value: Leaf;
  iv: Buffer;
}

/** Opens one `ENC[…]` value; the empty string stays the empty string, as in sops. */
export function decryptValue(ciphertext: string, key: Uint8Array, aad: string): DecryptedValue | null {
  if (ciphertext === "") return null;
  const m = ENC_RE.exec(ciphertext);
  if (m === null) throw new ValueCipherError("the value is not in the ENC[AES256_GCM,…] format");
  const [, data = "", ivText = "", tagText = "", type = ""] = m;
  const iv = Buffer.from(ivText, "base64");
  const tag = Buffer.from(tagText, "base64");
  if (iv.length === 0 || tag.length !== 16) throw new ValueCipherError("the value has a malformed iv or tag");
  let plain: Buffer;
  try {
    const d = createDecipheriv("aes-256-gcm", key, iv);
    d.setAAD(Buffer.from(aad, "utf8"));
    d.setAuthTag(tag);
    plain = Buffer.concat([d.update(Buffer.from(data, "base64")), d.final()]);
  } catch (cause) {
    throw new ValueCipherError("the value does not authenticate under the data key", { cause });
  }
  return { value: bytesToLeaf(plain, type), iv };
}

/** Seals one leaf with the given IV (sops uses 32 random bytes). */
export function encryptValue(value: Leaf, key: Uint8Array, aad: string, iv: Uint8Array): string {
  const { bytes, type } = leafToBytes(value);
  const c = createCipheriv("aes-256-gcm", key, iv);
  c.setAAD(Buffer.from(aad, "utf8"));
  const data = Buffer.concat([c.update(bytes), c.final()]);
  const tag = c.getAuthTag();
  return `ENC[AES256_GCM,data:${data.toString("base64")},iv:${Buffer.from(iv).toString("base64")},tag:${tag.toString("base64")},type:${type}]`;
}

/**
 * sops' stash: the IV each (path, value) had when it was read, so that re-encrypting an unchanged value
 * yields the same ciphertext and diffs stay minimal.
 */
export class IvCache {
  private readonly ivs = new Map<string, Buffer>();

  private static keyOf(aad: string, value: Leaf): string {
    // Strings (nearly every value) key by their text; the rest by their typed bytes.
    if (typeof value === "string") return `str\u0000${aad}\u0000${value}`;
    const { bytes, type } = leafToBytes(value);
    return `${type}\u0001${aad}\u0000${bytes.toString("base64")}`;
  }

  remember(aad: string, value: Leaf, iv: Buffer): void {
    this.ivs.set(IvCache.keyOf(aad, value), iv);
  }

  lookup(aad: string, value: Leaf): Buffer | undefined {
    return this.ivs.get(IvCache.keyOf(aad, value));
  }
}
