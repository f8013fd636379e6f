import type { Finding } from "./findings.js";
import type { JsonObject, JsonValue } from "./json.js";

/** Where a value came from. `environment: null` means the schema default. */
export interface Origin {
  environment: string | null;
  /** POSIX path relative to the repository root. */
  file: string;
  line: number;
  column: number;
}

/** One effective leaf (a scalar, an array as a whole, or an empty map) with its provenance. */
export interface LeafInfo {
  /** Dotted path including the namespace: `database.pool.max`. */
  path: string;
  value: JsonValue;
  /** The layer that set the effective value (the last one in the chain). */
  origin: Origin;
  /** Earlier layers whose values this one replaced, oldest first. */
  overridden: Origin[];
  /** From an encrypted file, `x-sensitive` in the schema, or interpolating a sensitive value. */
  sensitive: boolean;
  /**
   * True when the value is the SOPS ciphertext (`ENC[…]`) because no key could open the file (resolution
   * with secrets skipped): compare it only to say "may have changed".
   */
  ciphertextOnly?: boolean;
}

/** Schema metadata of one key (docs/reference.md, schemas vocabulary), for diffs, explain and approvals. */
export interface KeyMetadata {
  sensitive: boolean;
  restartRequired: boolean;
  deprecated: string | null;
  owner: string | null;
  approvers: string[];
  /** `x-merge` of an array: "replace" | "append" | { by } */
  merge: "replace" | "append" | { by: string } | null;
  description: string | null;
}

/** The effective configuration of one concrete environment. */
export interface ResolvedEnvironment {
  environment: string;
  /** Namespace -> effective value (plaintext, secrets included: redact before printing). */
  config: Record<string, JsonObject>;
  /** Leaf path -> provenance, in document order. */
  leaves: Map<string, LeafInfo>;
  findings: Finding[];
}

/** Environment declaration from strata.yaml, with its resolved chain. */
export interface EnvironmentInfo {
  name: string;
  parent: string | null;
  abstract: boolean;
  production: boolean;
  approvalRequired: boolean;
  description: string | null;
  metadata: JsonObject;
  /** Root first, this environment last. */
  chain: string[];
}
