/**
 * A snapshot's `secrets`: a standard SOPS JSON document (docs/distribution.md). Snapshots are served as
 * canonical JSON, which sorts keys, and the SOPS MAC hashes values in document order; so the document
 * order of `secrets` is defined as canonical JSON's key order (UTF-16 code units, recursively). The
 * writer encrypts a tree in that order and readers rebuild the tree from a parsed object in that order,
 * which is also the order of the served bytes: whatever reads them (sops, `jq .secrets`, this module)
 * hashes the same sequence the MAC was computed over.
 *
 * Pure (no fs, network or process): the SDK opens snapshot secrets with this and its own age identity.
 */
import { StrataError } from "../findings.js";
import type { JsonObject, JsonValue } from "../json.js";
import { jsonToTree, treeToJson } from "../sops/document.js";
import { decryptBranches, TreeDecryptError, verifyMac } from "../sops/engine.js";
import { readMetadata, type Metadata } from "../sops/metadata.js";
import { combineShares } from "../sops/shamir.js";
import { SopsFormatError } from "../sops/stores/errors.js";
import { Branch, Comment, RawStr, SopsTime, type Leaf, type TreeValue } from "../sops/tree.js";

/** Deeper than any configuration; bounds the recursion on hostile documents. */
const MAX_DEPTH = 512;

function compareKeys(a: string, b: string): number {
  // RFC 8785 sorts by UTF-16 code units, which is what `<` compares.
  return a < b ? -1 : a > b ? 1 : 0;
}

function canonicalTree(v: JsonValue, depth: number): TreeValue {
  if (depth > MAX_DEPTH)
    throw new StrataError("invalid-snapshot", `the snapshot's secrets nest deeper than ${MAX_DEPTH} levels`);
  if (Array.isArray(v)) return v.map((x) => canonicalTree(x, depth + 1));
  if (v !== null && typeof v === "object") {
    // Object.keys puts integer-like keys first; the served bytes (and sops reading them) do not.
    return new Branch(
      Object.keys(v)
        .sort(compareKeys)
        .map((key) => ({ key, value: canonicalTree(v[key] as JsonValue, depth + 1) })),
    );
  }
  return jsonToTree(v);
}

/** The plaintext document of a snapshot's sensitive leaves as a SOPS tree in canonical key order, to encrypt. */
export function createSnapshotSecretsTree(doc: JsonObject): Branch {
  return canonicalTree(doc, 0) as Branch;
}

/** A snapshot's `secrets` as SOPS reads the served bytes: the encrypted tree in document order and its metadata. */
export interface SnapshotSecretsDocument {
  branch: Branch;
  metadata: Metadata;
}

/** Reads a parsed `secrets` member; throws `invalid-snapshot` when it is not a SOPS document. */
export function parseSnapshotSecrets(secrets: JsonObject, name = "the snapshot's secrets"): SnapshotSecretsDocument {
  const tree = createSnapshotSecretsTree(secrets);
  const entry = tree.items.find((i) => i.key === "sops");
  if (entry === undefined || !(entry.value instanceof Branch))
    throw new StrataError("invalid-snapshot", `${name} has no sops metadata`);
  try {
    const metadata = readMetadata(entry.value);
    return { branch: new Branch(tree.items.filter((i) => i !== entry)), metadata };
  } catch (cause) {
    if (cause instanceof SopsFormatError)
      throw new StrataError("invalid-snapshot", `${name}: bad sops metadata: ${cause.message}`, { cause });
    throw cause;
  }
}

/** The decrypted secrets of a snapshot. */
export interface OpenedSnapshotSecrets {
  /** The decrypted document without `sops`: namespace -> values, as JSON. */
  values: JsonObject;
  /** Every decrypted value as text, to register with a redactor before anything prints. */
  plaintexts: string[];
}

function leafText(v: Leaf): string {
  if (v instanceof Comment) return v.value;
  if (v instanceof SopsTime) return v.text;
  if (v instanceof RawStr) return Buffer.from(v.bytes).toString("utf8");
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  if (v !== null && typeof v === "object") return String(v.value);
  return String(v);
}

/**
 * Decrypts a snapshot's `secrets` with its data key and checks the SOPS MAC. Throws `decryption-failed`
 * (a value does not open: wrong key or altered ciphertext), `mac-missing` or `mac-mismatch`; messages
 * name `name` and never a value.
 */
export function decryptSnapshotSecrets(
  secrets: JsonObject,
  dataKey: Uint8Array,
  name = "the snapshot's secrets",
): OpenedSnapshotSecrets {
  return decryptDocument(parseSnapshotSecrets(secrets, name), dataKey, name);
}

function decryptDocument(
  { branch, metadata }: SnapshotSecretsDocument,
  dataKey: Uint8Array,
  name: string,
): OpenedSnapshotSecrets {
  let decrypted;
  try {
    decrypted = decryptBranches([branch], metadata, dataKey);
  } catch (cause) {
    if (cause instanceof TreeDecryptError || cause instanceof SopsFormatError)
      throw new StrataError("decryption-failed", `${name}: ${cause.message}`, { cause });
    throw cause;
  }
  const mac = verifyMac(metadata, dataKey, decrypted.mac);
  if (!mac.ok) {
    if (mac.reason === "missing")
      throw new StrataError("mac-missing", `${name} carry no SOPS MAC, so their integrity cannot be checked`);
    throw new StrataError(
      "mac-mismatch",
      `${name} fail their SOPS MAC (${mac.reason === "mismatch" ? "the values are not the ones the MAC was computed over" : "the stored MAC does not open"})`,
      {
        hint: "a snapshot built by a strata that encrypted its secrets in another key order than it published them, or an altered one: push the environment again to publish a fresh version",
      },
    );
  }
  return { values: treeToJson(decrypted.branches[0]!) as JsonObject, plaintexts: decrypted.plaintexts.map(leafText) };
}

/**
 * Unwraps the data key from one age recipient stanza of the metadata (`enc` is the armored age file sops
 * stores); resolves null, or rejects, when this identity is not that recipient.
 */
export type AgeDataKeyUnwrapper = (stanza: { recipient: string; enc: string }) => Promise<Uint8Array | null>;

/** Recovers the data key through age stanzas only (the runtime recipients are age), Shamir across key groups. */
export async function recoverSnapshotDataKey(
  metadata: Metadata,
  unwrapAge: AgeDataKeyUnwrapper,
  name = "the snapshot's secrets",
): Promise<Uint8Array> {
  const groups = metadata.keyGroups;
  const threshold = groups.length > 1 ? (metadata.shamirThreshold > 0 ? metadata.shamirThreshold : groups.length) : 1;
  const parts: Uint8Array[] = [];
  for (const group of groups) {
    for (const k of group) {
      if (k.type !== "age") continue;
      const part = await unwrapAge({ recipient: k.recipient, enc: k.enc }).catch(() => null);
      if (part !== null) {
        parts.push(part);
        break;
      }
    }
    if (parts.length >= threshold) break;
  }
  if (parts.length < threshold) {
    const recipients = groups
      .flat()
      .map((k) => (k.type === "age" ? k.recipient : k.type))
      .join(", ");
    throw new StrataError(
      "decryption-failed",
      `${name}: this age identity is not a recipient (recipients: ${recipients || "none"})`,
      {
        hint: "use a runtime identity: its recipient is listed under runtime.recipients in strata.yaml",
      },
    );
  }
  return groups.length > 1 ? combineShares(parts) : parts[0]!;
}

/** Opens a snapshot's `secrets` with an age identity (through `unwrapAge`), MAC checked. */
export async function openSnapshotSecrets(
  secrets: JsonObject,
  unwrapAge: AgeDataKeyUnwrapper,
  name = "the snapshot's secrets",
): Promise<OpenedSnapshotSecrets> {
  const doc = parseSnapshotSecrets(secrets, name);
  return decryptDocument(doc, await recoverSnapshotDataKey(doc.metadata, unwrapAge, name), name);
}
