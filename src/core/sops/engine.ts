/**
 * Encrypting and decrypting a whole tree under a data key, and the MAC, exactly as sops'
 * `Tree.Encrypt`/`Tree.Decrypt` and `common.DecryptTree` do.
 */
import { createHash, randomBytes } from "node:crypto";
import { decryptValue, encryptValue, IvCache, leafToBytes, ValueCipherError } from "./cipher.js";
import type { Metadata } from "./metadata.js";
import { compileGoRegex } from "./regex.js";
import { Branch, Comment, type Leaf } from "./tree.js";
import { createRuleMatcher, walkBranch } from "./walk.js";

/** The first 32 bytes hashed with `mac_only_encrypted`, so the two kinds of MAC never collide. */
const MAC_ONLY_ENCRYPTED_INIT = createHash("sha256").update("sops").digest();

export type RandomBytes = (n: number) => Uint8Array;

/** A value that would not open: the path says where, never the value. */
export class TreeDecryptError extends Error {
  constructor(
    readonly path: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

export interface DecryptedTree {
  branches: Branch[];
  /** The MAC computed over the plaintext (uppercase hex). */
  mac: string;
  /** IVs of every value, to re-encrypt unchanged values identically. */
  ivCache: IvCache;
  /** Every decrypted plaintext, for the redactor. */
  plaintexts: Leaf[];
}

function hashLeaf(hash: ReturnType<typeof createHash>, leaf: Leaf): void {
  if (leaf instanceof Comment || leaf === null) return;
  hash.update(leafToBytes(leaf).bytes);
}

export function decryptBranches(branches: readonly Branch[], md: Metadata, dataKey: Uint8Array): DecryptedTree {
  const hash = createHash("sha512");
  if (md.macOnlyEncrypted) hash.update(MAC_ONLY_ENCRYPTED_INIT);
  const shouldEncrypt = createRuleMatcher(md);
  const ivCache = new IvCache();
  const plaintexts: Leaf[] = [];
  const out = branches.map((b) =>
    walkBranch(b, [], [], (leaf, path, comments) => {
      const isComment = leaf instanceof Comment;
      const encrypted = shouldEncrypt(path, comments, isComment);
      const aad = path.join(":") + ":";
      let v: Leaf = leaf;
      if (encrypted) {
        if (isComment) {
          try {
            const d = decryptValue(leaf.value, dataKey, aad);
            if (d !== null) {
              v = d.value instanceof Comment ? d.value : new Comment(String(d.value));
              ivCache.remember(aad, v, d.iv);
              plaintexts.push(v);
            }
          } catch {
            // Like sops: a comment that does not open was never encrypted (older sops versions).
          }
        } else {
          if (typeof leaf !== "string")
            throw new TreeDecryptError(aad, `the value at ${aad} should be encrypted but is not`);
          try {
            const d = decryptValue(leaf, dataKey, aad);
            if (d !== null) {
              v = d.value;
              ivCache.remember(aad, v, d.iv);
              plaintexts.push(v);
            }
          } catch (cause) {
            const why = cause instanceof ValueCipherError ? cause.message : "it does not open";
            throw new TreeDecryptError(aad, `could not decrypt the value at ${aad}: ${why}`, { cause });
          }
        }
      }
      if (!md.macOnlyEncrypted || encrypted) hashLeaf(hash, v);
      return v;
    }),
  );
  return { branches: out, mac: hash.digest("hex").toUpperCase(), ivCache, plaintexts };
}

export interface EncryptOptions {
  ivCache?: IvCache;
  random?: RandomBytes;
}

export function encryptBranches(
  branches: readonly Branch[],
  md: Metadata,
  dataKey: Uint8Array,
  options: EncryptOptions = {},
): { branches: Branch[]; mac: string } {
  const random = options.random ?? randomBytes;
  const hash = createHash("sha512");
  if (md.macOnlyEncrypted) hash.update(MAC_ONLY_ENCRYPTED_INIT);
  const shouldEncrypt = createRuleMatcher(md);
  const unencCommentRe =
    md.unencryptedCommentRegex === "" ? null : compileGoRegex(md.unencryptedCommentRegex, "unencrypted_comment_regex");
  const out = branches.map((b) =>
    walkBranch(b, [], [], (leaf, path, comments) => {
      const isComment = leaf instanceof Comment;
      const encrypted = shouldEncrypt(path, comments, isComment);
      if (!md.macOnlyEncrypted || encrypted) hashLeaf(hash, leaf);
      if (!encrypted || leaf === null) return leaf;
      if (leaf === "" || (isComment && leaf.value === "")) return leaf;
      const aad = path.join(":") + ":";
      const iv = options.ivCache?.lookup(aad, leaf) ?? random(32);
      const sealed = encryptValue(leaf, dataKey, aad, iv);
      if (isComment && unencCommentRe?.test(sealed)) {
        throw new TreeDecryptError(
          aad,
          "an encrypted comment matches unencrypted_comment_regex; choose a regex that cannot match ENC[…]",
        );
      }
      return isComment ? new Comment(sealed) : sealed;
    }),
  );
  return { branches: out, mac: hash.digest("hex").toUpperCase() };
}

/** Encrypts the MAC for the metadata: type str, the additional data is `lastmodified`. */
export function sealMac(mac: string, md: Metadata, dataKey: Uint8Array, options: EncryptOptions = {}): string {
  const iv = options.ivCache?.lookup(md.lastModified, mac) ?? (options.random ?? randomBytes)(32);
  return encryptValue(mac, dataKey, md.lastModified, iv);
}

export type MacCheck = { ok: true } | { ok: false; reason: "missing" | "mismatch" | "undecryptable" };

/** Compares the stored MAC with the computed one; remembers its IV so a rewrite keeps it. */
export function verifyMac(md: Metadata, dataKey: Uint8Array, computed: string, ivCache?: IvCache): MacCheck {
  if (md.mac === "") return { ok: false, reason: "missing" };
  try {
    const d = decryptValue(md.mac, dataKey, md.lastModified);
    if (d === null || typeof d.value !== "string") return { ok: false, reason: "undecryptable" };
    ivCache?.remember(md.lastModified, d.value, d.iv);
    return d.value === computed ? { ok: true } : { ok: false, reason: "mismatch" };
  } catch {
    return { ok: false, reason: "undecryptable" };
  }
}
