/** Writing a SOPS file from plaintext branches: encrypt, MAC, seal the MAC, emit in the store's format. */
import { randomBytes } from "node:crypto";
import { StrataError } from "../../core/findings.js";
import type { IvCache } from "../../core/sops/cipher.js";
import { encryptBranches, sealMac, TreeDecryptError } from "../../core/sops/engine.js";
import { formatRfc3339, SOPS_VERSION, type Metadata } from "../../core/sops/metadata.js";
import { SopsFormatError } from "../../core/sops/stores/errors.js";
import { stores, type SopsFormat } from "../../core/sops/stores/index.js";
import type { Branch } from "../../core/sops/tree.js";

export interface SealOptions {
  ivCache?: IvCache;
  /** Keep `lastmodified` as is (byte-identical rewrites); otherwise it is now. */
  keepLastModified?: boolean;
  now?: Date;
  file: string;
}

export function sealSopsText(
  plain: readonly Branch[],
  format: SopsFormat,
  metadata: Metadata,
  dataKey: Uint8Array,
  options: SealOptions,
): string {
  const md: Metadata = options.keepLastModified
    ? { ...metadata }
    : { ...metadata, lastModified: formatRfc3339(options.now ?? new Date()), version: SOPS_VERSION };
  const enc = { random: randomBytes, ...(options.ivCache ? { ivCache: options.ivCache } : {}) };
  try {
    const { branches, mac } = encryptBranches(plain, md, dataKey, enc);
    md.mac = sealMac(mac, md, dataKey, enc);
    return stores[format].emitEncrypted({ branches, metadata: md });
  } catch (e) {
    if (e instanceof SopsFormatError || e instanceof TreeDecryptError)
      throw new StrataError("invalid-argument", `${options.file}: ${e.message}`, { cause: e });
    throw e;
  }
}
