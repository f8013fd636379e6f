import { sign, verify } from "node:crypto";
import { StrataError } from "../findings.js";
import { isJsonObject, type JsonObject, type JsonValue } from "../json.js";
import { NAME_RULE, VALID_NAME } from "../names.js";
import { canonicalJson, DIGEST_PATTERN, digestOf, sha256Hex } from "./canonical.js";
import {
  SNAPSHOT_API_VERSION,
  SNAPSHOT_FIELDS,
  SNAPSHOT_KIND,
  SNAPSHOT_SOURCE_FIELDS,
  type Snapshot,
  type SnapshotSignature,
  type SnapshotSource,
  type UnsignedSnapshot,
  type VersionRef,
} from "../protocol/snapshot.js";
import type { PublicKey, SigningKey } from "./keys.js";

// The document itself is declared in the protocol module; its rules are here.
export type {
  PublishedPullRequest,
  Snapshot,
  SnapshotSignature,
  SnapshotSource,
  UnsignedSnapshot,
  VersionRef,
} from "../protocol/snapshot.js";

/** The name rule of core/names.ts: the name becomes a path and a URL segment. */
export const ENVIRONMENT_NAME = VALID_NAME;
/**
 * The highest version strata builds on or accepts. Clients never go back to a lower version, so a version
 * near 2^53 would freeze them; 2^31 versions is more than any environment publishes.
 */
export const MAX_VERSION = 2 ** 31;
/**
 * The deepest nesting of arrays and objects a snapshot may have, the document itself being level 1: room for
 * the YAML parser's 128 levels under `config.<namespace>` and `secrets.<namespace>`. Checked before anything
 * walks the document recursively (the digest, the tree a client builds), so a deeper one is refused as
 * malformed instead of overflowing the stack.
 */
export const MAX_SNAPSHOT_NESTING = 160;
/** Default validity of a snapshot: `push --refresh` renews it before clients call it stale. */
const DEFAULT_TTL_MS = 7 * 24 * 3600 * 1000;

/** docs/distribution.md: sha256 over the canonical document without `digest` and `signatures`. */
export function computeDigest(snapshot: UnsignedSnapshot | Snapshot): string {
  const { digest: _d, signatures: _s, ...rest } = snapshot as Snapshot;
  return digestOf(rest);
}

/**
 * docs/distribution.md: sha256 over the canonical `{config, secretSources}`, plus `recipients` when the snapshot
 * carries secrets: who can decrypt is part of the content, so adding a runtime recipient publishes a version
 * the new recipient can open. `secretSources` and `recipients` are sorted (and recipients deduplicated) here so
 * that callers cannot make equal content look different; without recipients the digest is the one it always was.
 */
export function computeContentDigest(
  config: Record<string, JsonObject>,
  secretSources: readonly (readonly [string, string])[],
  recipients: readonly string[] = [],
): string {
  const byText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);
  const sorted = [...secretSources].map(([p, h]) => [p, h]).sort((a, b) => byText(a[0]!, b[0]!));
  if (recipients.length === 0) return digestOf({ config, secretSources: sorted });
  return digestOf({ config, secretSources: sorted, recipients: [...new Set(recipients)].sort(byText) });
}

export function signDigest(digest: string, key: SigningKey): SnapshotSignature {
  return {
    keyid: key.publicKey.keyid,
    sig: sign(null, Buffer.from(digest, "utf8"), key.privateKey).toString("base64"),
  };
}

export interface SnapshotInit {
  environment: string;
  /** A service's snapshot of the environment (strata.yaml `services:`); absent for the environment's own. */
  service?: string;
  version: number;
  previous: string | null;
  rollbackOf?: number | null;
  createdAt: Date;
  /** Default: createdAt + 7 days. */
  expiresAt?: Date;
  source: Partial<SnapshotSource>;
  contentDigest: string;
  config: Record<string, JsonObject>;
  secrets: JsonObject | null;
}

/** Builds and signs a snapshot. Pure apart from the clock the caller passes in. */
export function createSnapshot(init: SnapshotInit, keys: readonly SigningKey[]): Snapshot {
  if (keys.length === 0)
    throw new StrataError("invalid-argument", "a snapshot needs a signing key", {
      hint: "pass --signing-key FILE or set STRATA_SIGNING_KEY",
    });
  const unsigned: UnsignedSnapshot = {
    kind: SNAPSHOT_KIND,
    apiVersion: SNAPSHOT_API_VERSION,
    environment: init.environment,
    ...(init.service !== undefined ? { service: init.service } : {}),
    version: init.version,
    previous: init.previous,
    rollbackOf: init.rollbackOf ?? null,
    createdAt: init.createdAt.toISOString(),
    expiresAt: (init.expiresAt ?? new Date(init.createdAt.getTime() + DEFAULT_TTL_MS)).toISOString(),
    source: {
      repository: init.source.repository ?? null,
      commit: init.source.commit ?? null,
      pullRequest: init.source.pullRequest ?? null,
      approvedBy: init.source.approvedBy ?? [],
      pushedBy: init.source.pushedBy ?? null,
      emergency: init.source.emergency ?? false,
      ...(init.source.dirty === true ? { dirty: true as const, dirtyDigest: init.source.dirtyDigest ?? "" } : {}),
      ...(init.source.pullRequests
        ? {
            pullRequests: init.source.pullRequests.map((p) => ({
              number: p.number,
              approvedBy: [...p.approvedBy],
              emergency: p.emergency,
            })),
          }
        : {}),
    },
    contentDigest: init.contentDigest,
    config: init.config,
    secrets: init.secrets,
  };
  const problems = validateSnapshotShape({ ...unsigned, digest: "sha256:" + "0".repeat(64), signatures: [] });
  if (problems.length > 0)
    throw new StrataError("invalid-snapshot", `cannot build the snapshot: ${problems.join("; ")}`);
  const digest = computeDigest(unsigned);
  return { ...unsigned, digest, signatures: keys.map((k) => signDigest(digest, k)) };
}

/** The serialized form stored and served: canonical JSON, so the bytes are the same everywhere. */
export function serializeSnapshot(snapshot: Snapshot): string {
  return canonicalJson(snapshot);
}

/**
 * The digest the content actually has and the serialized form, from one canonicalization: each top-level
 * value is canonicalized once and the two documents (with and without `digest`/`signatures`) are assembled
 * from those parts in RFC 8785 key order. Halves the work of accepting a large snapshot.
 */
export function encodeSnapshot(snapshot: Snapshot): { actualDigest: string; text: string } {
  const parts = new Map<string, string>();
  for (const [k, v] of Object.entries(snapshot)) if (v !== undefined) parts.set(k, canonicalJson(v));
  const keys = [...parts.keys()].sort();
  const assemble = (ks: string[]): string => `{${ks.map((k) => `${JSON.stringify(k)}:${parts.get(k)!}`).join(",")}}`;
  return {
    actualDigest: `sha256:${sha256Hex(assemble(keys.filter((k) => k !== "digest" && k !== "signatures")))}`,
    text: assemble(keys),
  };
}

const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const SOPS_CIPHERTEXT = /^ENC\[[A-Za-z0-9_]+,data:[A-Za-z0-9+/=]*,/;

function isNullableString(v: unknown): boolean {
  return v === null || typeof v === "string";
}

/** Every leaf outside `sops` must be SOPS ciphertext: the endpoint never stores plaintext secrets. */
function findPlaintextLeaf(value: JsonValue, path: string): string | null {
  // SOPS never encrypts an empty string or a null (nothing to hide); every other value must be ciphertext.
  if (value === null || value === "") return null;
  if (typeof value === "string") return SOPS_CIPHERTEXT.test(value) ? null : path;
  if (Array.isArray(value)) {
    for (const [i, v] of value.entries()) {
      const p = findPlaintextLeaf(v, `${path}[${i}]`);
      if (p !== null) return p;
    }
    return null;
  }
  if (isJsonObject(value)) {
    for (const [k, v] of Object.entries(value)) {
      const p = findPlaintextLeaf(v, path === "" ? k : `${path}.${k}`);
      if (p !== null) return p;
    }
    return null;
  }
  // Numbers and booleans are not encrypted by SOPS only when a rule leaves them plain: refuse.
  return path;
}

function validatePublishedPullRequests(value: unknown): string[] {
  if (!Array.isArray(value)) return ["source.pullRequests must be a list"];
  const p: string[] = [];
  for (const [i, pr] of value.entries()) {
    const at = `source.pullRequests[${i}]`;
    if (!isJsonObject(pr)) {
      p.push(`${at} must be an object`);
      continue;
    }
    for (const k of Object.keys(pr))
      if (!["number", "approvedBy", "emergency"].includes(k)) p.push(`unknown field "${at}.${k}"`);
    if (typeof pr.number !== "number" || !Number.isSafeInteger(pr.number) || pr.number < 1)
      p.push(`${at}.number must be a pull request number`);
    if (!Array.isArray(pr.approvedBy) || !pr.approvedBy.every((a) => typeof a === "string"))
      p.push(`${at}.approvedBy must be a list of names`);
    if (typeof pr.emergency !== "boolean") p.push(`${at}.emergency must be a boolean`);
  }
  return p;
}

/** True when arrays and objects nest deeper than `max` levels in `value` (walked without recursion). */
function nestsDeeperThan(value: unknown, max: number): boolean {
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0) {
    const [v, depth] = stack.pop()!;
    if (v === null || typeof v !== "object") continue;
    if (depth > max) return true;
    for (const child of Array.isArray(v) ? v : Object.values(v)) {
      if (child !== null && typeof child === "object") stack.push([child, depth + 1]);
    }
  }
  return false;
}

/** Structural problems of a would-be snapshot, as messages (empty when well-formed). */
export function validateSnapshotShape(value: unknown): string[] {
  const p: string[] = [];
  if (!isJsonObject(value)) return ["the document is not a JSON object"];
  // First and alone: every other check below may walk the document recursively.
  if (nestsDeeperThan(value, MAX_SNAPSHOT_NESTING))
    return [`the document nests deeper than ${MAX_SNAPSHOT_NESTING} levels of arrays and objects`];
  const s = value;
  for (const k of Object.keys(s))
    if (!(SNAPSHOT_FIELDS as readonly string[]).includes(k)) p.push(`unknown field "${k}"`);
  if (s.kind !== SNAPSHOT_KIND) p.push(`kind must be "${SNAPSHOT_KIND}"`);
  if (s.apiVersion !== SNAPSHOT_API_VERSION) p.push(`apiVersion must be ${SNAPSHOT_API_VERSION}`);
  if (typeof s.environment !== "string" || !ENVIRONMENT_NAME.test(s.environment))
    p.push(`environment must be a name: environment ${NAME_RULE}`);
  if (s.service !== undefined && (typeof s.service !== "string" || !VALID_NAME.test(s.service)))
    p.push(`service must be a name: service ${NAME_RULE}`);
  if (typeof s.version !== "number" || !Number.isSafeInteger(s.version) || s.version < 1)
    p.push("version must be an integer >= 1");
  else if (s.version > MAX_VERSION) p.push(`version must be at most ${MAX_VERSION}`);
  if (!(s.previous === null || (typeof s.previous === "string" && DIGEST_PATTERN.test(s.previous))))
    p.push("previous must be null or a sha256: digest");
  if (s.version === 1 && s.previous !== null) p.push("version 1 has no previous");
  if (typeof s.version === "number" && s.version > 1 && s.previous === null)
    p.push(`version ${s.version} needs previous`);
  if (!(
    s.rollbackOf === null ||
    (typeof s.rollbackOf === "number" && Number.isSafeInteger(s.rollbackOf) && s.rollbackOf >= 1)
  ))
    p.push("rollbackOf must be null or a version");
  if (typeof s.rollbackOf === "number" && typeof s.version === "number" && s.rollbackOf >= s.version)
    p.push("rollbackOf must name an earlier version");
  for (const f of ["createdAt", "expiresAt"] as const) {
    const t = s[f];
    if (typeof t !== "string" || !ISO_TIME.test(t) || Number.isNaN(Date.parse(t)))
      p.push(`${f} must be an RFC 3339 time`);
  }
  if (
    typeof s.createdAt === "string" &&
    typeof s.expiresAt === "string" &&
    Date.parse(s.expiresAt) <= Date.parse(s.createdAt)
  )
    p.push("expiresAt must be after createdAt");
  const src = s.source;
  if (!isJsonObject(src)) p.push("source must be an object");
  else {
    for (const k of Object.keys(src))
      if (!(SNAPSHOT_SOURCE_FIELDS as readonly string[]).includes(k)) p.push(`unknown field "source.${k}"`);
    if (src.dirty !== undefined && src.dirty !== true) p.push("source.dirty must be true when present");
    if ((src.dirty === true) !== (src.dirtyDigest !== undefined))
      p.push("source.dirty and source.dirtyDigest go together");
    if (src.dirtyDigest !== undefined && (typeof src.dirtyDigest !== "string" || !DIGEST_PATTERN.test(src.dirtyDigest)))
      p.push("source.dirtyDigest must be a sha256: digest");
    if (!isNullableString(src.repository)) p.push("source.repository must be a string or null");
    if (!isNullableString(src.commit)) p.push("source.commit must be a string or null");
    if (!(src.pullRequest === null || (typeof src.pullRequest === "number" && Number.isSafeInteger(src.pullRequest))))
      p.push("source.pullRequest must be a number or null");
    if (!Array.isArray(src.approvedBy) || !src.approvedBy.every((a) => typeof a === "string"))
      p.push("source.approvedBy must be a list of names");
    if (!isNullableString(src.pushedBy)) p.push("source.pushedBy must be a string or null");
    if (typeof src.emergency !== "boolean") p.push("source.emergency must be a boolean");
    if (src.pullRequests !== undefined) p.push(...validatePublishedPullRequests(src.pullRequests));
  }
  if (typeof s.contentDigest !== "string" || !DIGEST_PATTERN.test(s.contentDigest))
    p.push("contentDigest must be a sha256: digest");
  if (!isJsonObject(s.config) || !Object.values(s.config).every(isJsonObject))
    p.push("config must map namespaces to objects");
  if (s.secrets !== null) {
    if (!isJsonObject(s.secrets) || !isJsonObject(s.secrets.sops))
      p.push("secrets must be null or a SOPS document (with sops metadata)");
    else {
      const { sops: _m, ...data } = s.secrets;
      const leaf = findPlaintextLeaf(data, "");
      if (leaf !== null) p.push(`secrets.${leaf} is not SOPS ciphertext: plaintext secrets are never published`);
    }
  }
  if (typeof s.digest !== "string" || !DIGEST_PATTERN.test(s.digest)) p.push("digest must be a sha256: digest");
  if (
    !Array.isArray(s.signatures) ||
    !s.signatures.every((g) => isJsonObject(g) && typeof g.keyid === "string" && typeof g.sig === "string")
  )
    p.push("signatures must be a list of {keyid, sig}");
  return p;
}

/** Parses a snapshot document; throws `invalid-snapshot` with every structural problem. */
export function parseSnapshot(text: string): Snapshot {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (cause) {
    throw new StrataError("invalid-snapshot", `the snapshot is not JSON: ${(cause as Error).message}`, { cause });
  }
  const problems = validateSnapshotShape(value);
  if (problems.length > 0) throw new StrataError("invalid-snapshot", `malformed snapshot: ${problems.join("; ")}`);
  return value as Snapshot;
}

/**
 * The keyid of the first signature over `digest` (its UTF-8 bytes) by a trusted key, or null. The one
 * signature check of every signed document (snapshots, rollout plans).
 */
export function findValidSignature(
  digest: string,
  signatures: readonly SnapshotSignature[],
  trusted: readonly PublicKey[],
): string | null {
  const data = Buffer.from(digest, "utf8");
  for (const s of signatures) {
    const key = trusted.find((k) => k.keyid === s.keyid);
    if (key === undefined || !/^[A-Za-z0-9+/]{86}==$/.test(s.sig)) continue;
    if (verify(null, data, key.key, Buffer.from(s.sig, "base64"))) return key.keyid;
  }
  return null;
}

/**
 * Checks the digest against the content (`actualDigest` when the caller already computed it, see
 * {@link encodeSnapshot}) and that at least one signature is by a trusted key. Returns the keyid that
 * verified; throws `digest-mismatch` or `invalid-signature`.
 */
export function verifySnapshot(snapshot: Snapshot, trusted: readonly PublicKey[], actualDigest?: string): string {
  const actual = actualDigest ?? computeDigest(snapshot);
  if (actual !== snapshot.digest) {
    throw new StrataError(
      "digest-mismatch",
      `snapshot ${snapshot.environment} v${snapshot.version}: digest ${snapshot.digest} does not match the content (${actual})`,
    );
  }
  const keyid = findValidSignature(snapshot.digest, snapshot.signatures, trusted);
  if (keyid !== null) return keyid;
  const ids = snapshot.signatures.map((s) => s.keyid.slice(0, 12)).join(", ") || "none";
  throw new StrataError(
    "invalid-signature",
    `snapshot ${snapshot.environment} v${snapshot.version} has no valid signature by a trusted key (signatures: ${ids})`,
    {
      hint: "sign with a key listed in signing.trusted_keys / --trusted-keys",
    },
  );
}

/**
 * Checks that `snapshot` may follow `current` in `environment`: same environment, the next version, and
 * `previous` naming the current digest. Throws `invalid-snapshot`.
 */
export function validateSuccessor(
  snapshot: Snapshot,
  environment: string,
  current: VersionRef | null,
  service: string | null = null,
): void {
  if (snapshot.environment !== environment) {
    throw new StrataError(
      "invalid-snapshot",
      `the snapshot is for environment "${snapshot.environment}", not "${environment}"`,
    );
  }
  // A service's snapshot holds part of the configuration: never an environment's version, nor another's.
  if ((snapshot.service ?? null) !== service) {
    throw new StrataError(
      "invalid-snapshot",
      snapshot.service === undefined
        ? `the snapshot is the environment's, not service "${service}"'s`
        : `the snapshot is service "${snapshot.service}"'s, not ${service === null ? `the environment's` : `service "${service}"'s`}`,
    );
  }
  const expected = (current?.version ?? 0) + 1;
  if (snapshot.version !== expected) {
    throw new StrataError(
      "invalid-snapshot",
      `version ${snapshot.version} does not follow ${current?.version ?? 0} (expected ${expected})`,
    );
  }
  const previous = current?.digest ?? null;
  if (snapshot.previous !== previous) {
    throw new StrataError(
      "invalid-snapshot",
      `previous ${snapshot.previous ?? "null"} is not the digest of version ${current?.version ?? 0} (${previous ?? "null"})`,
    );
  }
}

/**
 * Checks a snapshot an endpoint calls the current version of `environment` before anything is built on it:
 * well-formed (apiVersion 1, version at most {@link MAX_VERSION}), for this environment, its digest, and a
 * signature by a trusted key. A hostile endpoint could otherwise choose the chain a push extends (a version
 * near 2^53 freezes every client) or make a push a silent no-op (a forged current with the same
 * `contentDigest`). Throws `invalid-snapshot`, `digest-mismatch` or `invalid-signature`, saying what failed.
 */
export function verifyCurrentSnapshot(
  snapshot: Snapshot,
  environment: string,
  trusted: readonly PublicKey[],
  what = "current",
  service: string | null = null,
): void {
  const of = service === null ? environment : `${environment}/${service}`;
  const prefix = `the endpoint's ${what} snapshot of ${of} cannot be built on`;
  const problems = validateSnapshotShape(snapshot);
  if (problems.length > 0) throw new StrataError("invalid-snapshot", `${prefix}: ${problems.join("; ")}`);
  if (snapshot.environment !== environment)
    throw new StrataError("invalid-snapshot", `${prefix}: it is a snapshot of "${snapshot.environment}"`);
  // A service's chain is its own: another service's snapshot, or the environment's, is never built on.
  if ((snapshot.service ?? null) !== service)
    throw new StrataError(
      "invalid-snapshot",
      `${prefix}: it is ${snapshot.service === undefined ? "the environment's snapshot" : `the snapshot of service "${snapshot.service}"`}`,
    );
  try {
    verifySnapshot(snapshot, trusted);
  } catch (e) {
    if (e instanceof StrataError)
      throw new StrataError(e.code, `${prefix}: ${e.message}`, e.hint === null ? {} : { hint: e.hint });
    throw e;
  }
}
