/**
 * Opening a snapshot's `secrets` member: a SOPS JSON document encrypted to the services' age recipients.
 * The data key is unwrapped with the service's age identities (age-encryption, loaded only when a snapshot
 * has secrets), the values are decrypted with the core SOPS engine and the MAC is checked, all in memory.
 * Errors name the path that failed, never a value.
 */
import { canonicalJson } from "../core/snapshot/canonical.js";
import type { JsonObject, JsonValue } from "../core/json.js";
import { decryptBranches, TreeDecryptError, verifyMac } from "../core/sops/engine.js";
import { readMetadata, type Metadata } from "../core/sops/metadata.js";
import { combineShares } from "../core/sops/shamir.js";
import { parseJsonBranch } from "../core/sops/stores/json.js";
import { SopsFormatError } from "../core/sops/stores/errors.js";
import { treeToJson } from "../core/sops/document.js";
import { Branch } from "../core/sops/tree.js";
import { StrataClientError } from "./errors.js";

async function unwrapAge(enc: string, identities: readonly string[]): Promise<Uint8Array> {
  const { armor, Decrypter } = await import("age-encryption");
  const d = new Decrypter();
  for (const id of identities) d.addIdentity(id);
  return d.decrypt(armor.decode(enc));
}

async function recoverDataKey(md: Metadata, identities: readonly string[], version: number): Promise<Uint8Array> {
  const threshold = md.keyGroups.length > 1 ? (md.shamirThreshold > 0 ? md.shamirThreshold : md.keyGroups.length) : 1;
  const parts: Uint8Array[] = [];
  for (const group of md.keyGroups) {
    for (const k of group) {
      if (k.type !== "age") continue;
      try {
        parts.push(await unwrapAge(k.enc, identities));
        break;
      } catch {
        // Not this recipient's identity: try the group's next key.
      }
    }
    if (parts.length >= threshold) break;
  }
  if (parts.length < threshold) {
    const recipients = md.keyGroups.flat().map((k) => (k.type === "age" ? k.recipient : k.type)).join(", ");
    throw new StrataClientError("decrypt-failed", `snapshot v${version}: no age identity of this service opens the secrets (recipients: ${recipients || "none"})`, { version });
  }
  return md.keyGroups.length > 1 ? combineShares(parts) : (parts[0] as Uint8Array);
}

/**
 * Decrypts a snapshot's `secrets` document and checks its MAC. The document is read from its canonical
 * text (the bytes the endpoint serves) with an order-preserving parser, because the MAC covers the values
 * in document order.
 */
export async function openSnapshotSecrets(secrets: JsonObject, identities: readonly string[], version: number): Promise<JsonObject> {
  if (identities.length === 0) {
    throw new StrataClientError("decrypt-failed", `snapshot v${version} has secrets but this service has no age identity`, { version });
  }
  let data: Branch;
  let md: Metadata;
  try {
    const root = parseJsonBranch(canonicalJson(secrets));
    const meta = root.items.find((i) => i.key === "sops");
    if (meta === undefined || !(meta.value instanceof Branch)) throw new SopsFormatError("no sops metadata");
    md = readMetadata(meta.value);
    data = new Branch(root.items.filter((i) => i.key !== "sops"));
  } catch (cause) {
    const why = cause instanceof SopsFormatError ? cause.message : "unreadable";
    throw new StrataClientError("decrypt-failed", `snapshot v${version}: the secrets are not a SOPS document (${why})`, { version, cause });
  }
  const dataKey = await recoverDataKey(md, identities, version);
  let opened;
  try {
    opened = decryptBranches([data], md, dataKey);
  } catch (cause) {
    const where = cause instanceof TreeDecryptError ? ` at ${cause.path}` : "";
    throw new StrataClientError("decrypt-failed", `snapshot v${version}: a secret value does not decrypt${where}`, { version, cause: cause instanceof TreeDecryptError ? undefined : cause });
  }
  const mac = verifyMac(md, dataKey, opened.mac);
  if (!mac.ok) {
    throw new StrataClientError("mac-mismatch", `snapshot v${version}: the secrets fail their MAC (${mac.reason}): they were altered after encryption`, { version });
  }
  const value: JsonValue = treeToJson(opened.branches[0] as Branch);
  return value as JsonObject;
}
