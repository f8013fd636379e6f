/**
 * The answers of the dashboard's own API (`/ui/api/…`, docs/dashboard.md): what the pages need that the
 * /v1 API does not give. The pages read these types (type-only imports: nothing of the server reaches the
 * browser bundle).
 */
import type { DiffResult } from "../diff/model.js";

export type { KeyChange } from "../diff/model.js";
import type { Agree, FieldsOf } from "./fields.js";
import type { PublishAction } from "./history.js";
import type { SnapshotSource } from "./snapshot.js";

/** `GET /ui/api/session`: who the page is signed in as. */
export interface SessionDocument {
  /** The server has a tokens file (without one, everything is open on loopback). */
  auth: boolean;
  /** The token's name, null without auth. */
  token: string | null;
  admin: boolean;
}

export const SESSION_DOCUMENT_FIELDS = ["auth", "token", "admin"] as const;

/** The version an environment serves, as its history's last line says. */
interface CurrentVersion {
  version: number;
  digest: string;
  action: PublishAction;
  publishedAt: string;
  createdAt: string;
  expiresAt: string;
  ageSeconds: number;
  expired: boolean;
  emergency: boolean;
  actor: string | null;
  source: SnapshotSource;
}

/** One environment of the tree: declared in strata.yaml (with `--repo`), published, or both. */
export interface EnvironmentRow {
  name: string;
  declared: boolean;
  parent: string | null;
  abstract: boolean;
  production: boolean;
  approvalRequired: boolean;
  description: string | null;
  current: CurrentVersion | null;
}

export const ENVIRONMENT_ROW_FIELDS = [
  "name",
  "declared",
  "parent",
  "abstract",
  "production",
  "approvalRequired",
  "description",
  "current",
] as const;

/** `GET /ui/api/environments`. */
export interface EnvironmentsDocument {
  schemaVersion: 1;
  /** The server was started with `--repo` and could read it: the tree and the flags are known. */
  repository: boolean;
  environments: EnvironmentRow[];
}

export const ENVIRONMENTS_DOCUMENT_FIELDS = ["schemaVersion", "repository", "environments"] as const;

/** `GET /ui/api/environments/{env}/diff?from=A&to=B`: the model of `strata diff` between two versions. */
export type VersionDiffDocument = DiffResult;

/** Why a version breaks the chain (`digest-mismatch`, `invalid-signature`, `chain-broken`, `missing-version`, …). */
export interface ChainProblem {
  code: string;
  message: string;
}

export interface AuditedVersion {
  version: number;
  digest: string;
  previous: string | null;
  action: string;
  publishedAt: string;
  actor: string | null;
  emergency: boolean;
  /** The trusted key that signed it (its keyid), when the signature verified. */
  signedBy: string | null;
  ok: boolean;
  problem: ChainProblem | null;
}

export interface AuditedEnvironment {
  environment: string;
  ok: boolean;
  versions: AuditedVersion[];
  /** The first version that failed, or null when the chain is intact. */
  firstBad: ({ version: number } & ChainProblem) | null;
}

export const AUDITED_ENVIRONMENT_FIELDS = ["environment", "ok", "versions", "firstBad"] as const;

/** `GET /ui/api/audit`: every readable environment's hash chain, checked by the server. */
export interface ChainAuditDocument {
  schemaVersion: 1;
  /** The keyids of the server's trusted keys. */
  trustedKeys: string[];
  environments: AuditedEnvironment[];
}

export const CHAIN_AUDIT_DOCUMENT_FIELDS = ["schemaVersion", "trustedKeys", "environments"] as const;

type _SessionFields = Agree<FieldsOf<SessionDocument, typeof SESSION_DOCUMENT_FIELDS>>;
type _RowFields = Agree<FieldsOf<EnvironmentRow, typeof ENVIRONMENT_ROW_FIELDS>>;
type _EnvironmentsFields = Agree<FieldsOf<EnvironmentsDocument, typeof ENVIRONMENTS_DOCUMENT_FIELDS>>;
type _AuditedFields = Agree<FieldsOf<AuditedEnvironment, typeof AUDITED_ENVIRONMENT_FIELDS>>;
type _ChainFields = Agree<FieldsOf<ChainAuditDocument, typeof CHAIN_AUDIT_DOCUMENT_FIELDS>>;
