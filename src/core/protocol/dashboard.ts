/**
 * The answers of the dashboard's own API (`/ui/api/…`, docs/dashboard.md): what the pages need that the
 * /v1 API does not give. The pages read these types (type-only imports: nothing of the server reaches the
 * browser bundle).
 */
import type { DiffResult } from "../diff/model.js";

export type { KeyChange } from "../diff/model.js";
import type { Agree, FieldsOf } from "./fields.js";
import type { PublishAction } from "./history.js";
import type { RolloutAuditEntry } from "./rollout.js";
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

/**
 * The version an environment serves: its number, digest, action, time and token from the history's last
 * line (the server's own record); its times, source and emergency flag from the stored snapshot, verified
 * (never from the unsigned history line). A current version that does not verify has `problem` set
 * (`store-corrupt`) and an empty source.
 */
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
  /** The stored snapshot does not verify (`store-corrupt`): nothing else of it is shown. */
  problem: ChainProblem | null;
  /**
   * The environment requires approval (strata.yaml) and this version was published without the record the
   * approval gate signs into a snapshot (`push --require-approval`: every pull request and its approvers),
   * or with a pull request that no one approved: why, or null when it carries what its rules require.
   */
  unapproved: string | null;
  /**
   * The repository the server was started with (`--repo`) against this version's commit: `same` (HEAD is
   * that commit), `unchanged` (HEAD moved but not this environment's files), `changed` (HEAD changed the
   * files this environment is built from: what is published is not what the repository says), `unknown`
   * (the commit is not in the repository, or no commit was recorded); null without `--repo`.
   */
  drift: { state: "same" | "unchanged" | "changed" | "unknown"; head: string; files: string[] } | null;
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
  /**
   * Where the repository lives, from strata.yaml's `repository:` or its `origin` remote (with `--repo`), for
   * commit and pull request links when a snapshot recorded only a directory name; null when unknown.
   */
  repositoryUrl: string | null;
  environments: EnvironmentRow[];
}

export const ENVIRONMENTS_DOCUMENT_FIELDS = ["schemaVersion", "repository", "repositoryUrl", "environments"] as const;

/** `GET /ui/api/environments/{env}/diff?from=A&to=B`: the model of `strata diff` between two versions. */
export type VersionDiffDocument = DiffResult;

/** Why a version breaks the chain (`digest-mismatch`, `invalid-signature`, `chain-broken`, `missing-version`, …). */
export interface ChainProblem {
  code: string;
  message: string;
}

/**
 * One version as the server checked it. `version`, `digest`, `action`, `publishedAt` and `actor` are the
 * history line (the server's own record of the publish: when, with which token); everything about who
 * pushed it, which pull requests, who approved them and whether it was an emergency comes from the stored
 * snapshot whose signature verified, and is null (or false) when it did not.
 */
export interface AuditedVersion {
  version: number;
  digest: string;
  previous: string | null;
  action: PublishAction;
  publishedAt: string;
  actor: string | null;
  /** The signed snapshot's source; null when the stored version does not verify. */
  source: SnapshotSource | null;
  emergency: boolean;
  rollbackOf: number | null;
  createdAt: string | null;
  expiresAt: string | null;
  /** The trusted key that signed it (its keyid), when the signature verified. */
  signedBy: string | null;
  /** Verified and chained, and no version before it failed. */
  ok: boolean;
  problem: ChainProblem | null;
}

/** One environment's chain and a page of its versions, newest first. */
export interface AuditedEnvironment {
  environment: string;
  ok: boolean;
  /** How many versions the chain has. */
  count: number;
  /** The first version that failed, or null when the chain is intact. */
  firstBad: ({ version: number } & ChainProblem) | null;
  /** A page of versions, newest first (`?before=N&limit=M`). */
  versions: AuditedVersion[];
  /** The `before` of the next (older) page; null on the last. */
  next: number | null;
}

export const AUDITED_ENVIRONMENT_FIELDS = ["environment", "ok", "count", "firstBad", "versions", "next"] as const;

/** `GET /ui/api/environments/{env}/versions`: the checked chain of one environment, a page of it. */
export interface VersionsDocument extends AuditedEnvironment {
  schemaVersion: 1;
  /** As in {@link EnvironmentsDocument}: for links when a snapshot recorded only a directory name. */
  repositoryUrl: string | null;
}

/** `GET /ui/api/audit`: every readable environment's hash chain, checked by the server, without versions. */
export interface ChainAuditDocument {
  schemaVersion: 1;
  /** The keyids of the server's trusted keys. */
  trustedKeys: string[];
  /** Each environment's verdict (`versions` empty: page them with `…/versions`), broken chains first. */
  environments: AuditedEnvironment[];
  /** The rollout decisions and operators' actions on the chains the token may read, newest first (at most 200). */
  rollouts: RolloutAuditEntry[];
}

export const CHAIN_AUDIT_DOCUMENT_FIELDS = ["schemaVersion", "trustedKeys", "environments", "rollouts"] as const;

type _SessionFields = Agree<FieldsOf<SessionDocument, typeof SESSION_DOCUMENT_FIELDS>>;
type _RowFields = Agree<FieldsOf<EnvironmentRow, typeof ENVIRONMENT_ROW_FIELDS>>;
type _EnvironmentsFields = Agree<FieldsOf<EnvironmentsDocument, typeof ENVIRONMENTS_DOCUMENT_FIELDS>>;
type _AuditedFields = Agree<FieldsOf<AuditedEnvironment, typeof AUDITED_ENVIRONMENT_FIELDS>>;
type _ChainFields = Agree<FieldsOf<ChainAuditDocument, typeof CHAIN_AUDIT_DOCUMENT_FIELDS>>;
