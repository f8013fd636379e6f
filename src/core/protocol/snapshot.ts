/**
 * The snapshot document (docs/reference.md, "Snapshots"): one immutable, signed document per environment
 * and version, the bytes the endpoint stores and serves, the SDK verifies and the cache file holds. Its
 * rules (digest, signatures, shape, successor) are in core/snapshot; this is what it is.
 */
import type { JsonObject } from "../json.js";
import type { Agree, FieldsOf } from "./fields.js";

export const SNAPSHOT_KIND = "strata.snapshot";
export const SNAPSHOT_API_VERSION = 1;

/** Who and what produced a snapshot (docs/distribution.md). Filled from git and from the caller. */
/** One pull request whose changes a snapshot publishes, as `push --require-approval` found it approved. */
export interface PublishedPullRequest {
  number: number;
  /** The approvals that counted for it (docs/github.md). */
  approvedBy: string[];
  /** Merged under the emergency label. */
  emergency: boolean;
}

/** Who and what produced a snapshot (docs/distribution.md). Filled from git and from the caller. */
export interface SnapshotSource {
  repository: string | null;
  commit: string | null;
  /** The pull request that produced `commit` (with `pullRequests`: the newest of them). */
  pullRequest: number | null;
  /** Every approval the publish relied on (with `pullRequests`: all of theirs). */
  approvedBy: string[];
  pushedBy: string | null;
  /** With `pullRequests`: any of them was an emergency. */
  emergency: boolean;
  /**
   * Present only when `push --require-approval` published it: every pull request merged since the commit
   * of the version it follows that changed this environment, oldest first, each with its approvers.
   */
  pullRequests?: PublishedPullRequest[];
  /**
   * Present (true) only when `push --allow-dirty` published a working tree that differs from `commit`; then
   * `dirtyDigest` identifies the uncommitted content (see docs/distribution.md).
   */
  dirty?: true;
  dirtyDigest?: string;
}

/**
 * The members `source` may have. New members are added here and to {@link SnapshotSource} together; the shape check refuses any member not listed.
 */
export const SNAPSHOT_SOURCE_FIELDS = [
  "repository",
  "commit",
  "pullRequest",
  "approvedBy",
  "pushedBy",
  "emergency",
  "dirty",
  "dirtyDigest",
  "pullRequests",
] as const;

export interface SnapshotSignature {
  /** Lowercase hex SHA-256 of the signer's 32-byte raw public key. */
  keyid: string;
  /** Standard padded base64 of the Ed25519 signature over the UTF-8 bytes of `digest`. */
  sig: string;
}

/** One immutable, signed document per environment and version (docs/distribution.md). */
export interface Snapshot {
  kind: typeof SNAPSHOT_KIND;
  apiVersion: typeof SNAPSHOT_API_VERSION;
  environment: string;
  /**
   * The service whose snapshot of the environment this is (strata.yaml `services:`): only its namespaces, its
   * secrets encrypted to its recipients, its own version chain. Absent on an environment's snapshot.
   */
  service?: string;
  version: number;
  /** Digest of version N-1; null for version 1. */
  previous: string | null;
  /** The version whose content a rollback republishes. */
  rollbackOf: number | null;
  createdAt: string;
  expiresAt: string;
  source: SnapshotSource;
  contentDigest: string;
  config: Record<string, JsonObject>;
  /** A SOPS JSON document of the sensitive leaves (ciphertext only), or null when none is sensitive. */
  secrets: JsonObject | null;
  digest: string;
  signatures: SnapshotSignature[];
}

/** The members of a snapshot, in no particular order (the serialized form is RFC 8785: sorted). */
export const SNAPSHOT_FIELDS = [
  "kind",
  "apiVersion",
  "environment",
  "service",
  "version",
  "previous",
  "rollbackOf",
  "createdAt",
  "expiresAt",
  "source",
  "contentDigest",
  "config",
  "secrets",
  "digest",
  "signatures",
] as const;

/** The fields of a snapshot that the digest covers. */
export type UnsignedSnapshot = Omit<Snapshot, "digest" | "signatures">;

/** What a version is: enough to chain the next one and to answer conditional requests. */
export interface VersionRef {
  version: number;
  digest: string;
}

/** A snapshot's metadata: everything but its configuration and secrets (the SDK's `snapshot`). */
export type SnapshotMetadata = Omit<Snapshot, "config" | "secrets">;

type _SnapshotFields = Agree<FieldsOf<Snapshot, typeof SNAPSHOT_FIELDS>>;
type _SourceFields = Agree<FieldsOf<SnapshotSource, typeof SNAPSHOT_SOURCE_FIELDS>>;
