/**
 * The history of an environment and the audit record (`GET …/history`, `GET /v1/audit`): one line per
 * published version, appended by the store once and never rewritten.
 */
import type { Agree, FieldsOf } from "./fields.js";
import type { RolloutAuditEntry } from "./rollout.js";
import type { SnapshotSource } from "./snapshot.js";

/** How a version came to be: a push, `push --refresh` (same content, new expiry) or `rollback`. */
export const PUBLISH_ACTIONS = ["publish", "refresh", "rollback"] as const;
export type PublishAction = (typeof PUBLISH_ACTIONS)[number];

/**
 * One published version: its history line and its audit record (who, when, what, from which commit and pull
 * request). Appended once, never rewritten.
 */
export interface HistoryEntry {
  environment: string;
  /** The service whose chain the version belongs to; absent on the environment's own chain. */
  service?: string;
  version: number;
  digest: string;
  previous: string | null;
  rollbackOf: number | null;
  contentDigest: string;
  createdAt: string;
  expiresAt: string;
  publishedAt: string;
  action: PublishAction;
  emergency: boolean;
  /** The token that published it (its name in the tokens file), or null without auth. */
  actor: string | null;
  source: SnapshotSource;
  /** True when the entry was rebuilt from the stored snapshot after a crash lost the original line. */
  recovered?: boolean;
}

export const HISTORY_ENTRY_FIELDS = [
  "environment",
  "service",
  "version",
  "digest",
  "previous",
  "rollbackOf",
  "contentDigest",
  "createdAt",
  "expiresAt",
  "publishedAt",
  "action",
  "emergency",
  "actor",
  "source",
  "recovered",
] as const;

/** `GET /v1/environments/{env}/history` (and `…/services/{svc}/history`): oldest first. */
export interface HistoryDocument {
  schemaVersion: 1;
  environment: string;
  /** A service's history only. */
  service?: string;
  versions: HistoryEntry[];
}

export const HISTORY_DOCUMENT_FIELDS = ["schemaVersion", "environment", "service", "versions"] as const;

/**
 * `GET /v1/audit`: every chain's history lines and every rollout's decisions and operators' actions, each
 * list oldest first (admin only). `rollouts` came later: a reader of `entries` alone is unaffected.
 */
export interface AuditDocument {
  schemaVersion: 1;
  entries: HistoryEntry[];
  rollouts: RolloutAuditEntry[];
}

export const AUDIT_DOCUMENT_FIELDS = ["schemaVersion", "entries", "rollouts"] as const;

/** `201` to `PUT …/snapshot`. */
export interface PublishedDocument {
  environment: string;
  service?: string;
  version: number;
  digest: string;
  action: PublishAction;
}

export const PUBLISHED_DOCUMENT_FIELDS = ["environment", "service", "version", "digest", "action"] as const;

type _HistoryFields = Agree<FieldsOf<HistoryEntry, typeof HISTORY_ENTRY_FIELDS>>;
type _HistoryDocumentFields = Agree<FieldsOf<HistoryDocument, typeof HISTORY_DOCUMENT_FIELDS>>;
type _AuditFields = Agree<FieldsOf<AuditDocument, typeof AUDIT_DOCUMENT_FIELDS>>;
type _PublishedFields = Agree<FieldsOf<PublishedDocument, typeof PUBLISHED_DOCUMENT_FIELDS>>;
