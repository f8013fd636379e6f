import type { Finding } from "../../core/findings.js";
import type { JsonObject } from "../../core/json.js";

/**
 * What a snapshot carries, from the repository's resolution of one concrete environment. The seam between
 * distribution and resolution: the real builder (`buildSnapshotContent` in app/snapshot-content.ts) resolves
 * the repository and encrypts the sensitive leaves; tests build content directly.
 */
export interface SnapshotContent {
  /** Namespace -> effective non-sensitive values. */
  config: Record<string, JsonObject>;
  /** The sensitive leaves as a SOPS JSON document encrypted to `runtime.recipients`, or null when none. */
  secrets: JsonObject | null;
  /** `[path, sha256 of the file's bytes]` of every encrypted file that fed the environment. */
  secretSources: [string, string][];
  source: { repository: string | null; commit: string | null };
  /** Validation findings of the environment: any error refuses the push. */
  findings: Finding[];
}

export type ContentBuilder = (environment: string) => Promise<SnapshotContent>;
