import type { Finding } from "../../core/findings.js";
import type { JsonObject } from "../../core/json.js";
import type { RepoFiles } from "../../core/source.js";
import type { RepositorySettings } from "../repository.js";

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
  /**
   * Who can decrypt `secrets`: the recipients it is encrypted to (empty when there are none). Part of the
   * content digest, so a change of recipients is a change.
   */
  recipients: string[];
  /** `[path, sha256 of the file's bytes]` of every encrypted file that fed the environment. */
  secretSources: [string, string][];
  source: { repository: string | null; commit: string | null };
  /** Validation findings of the environment: any error refuses the push. */
  findings: Finding[];
  /**
   * The environment's content only: the services it runs (strata.yaml `services:`), each published on its own
   * chain by push. Absent or empty: none.
   */
  services?: string[];
}

/** The content of an environment's snapshot, or of one service's snapshot of it (strata.yaml `services:`). */
export type ContentBuilder = (environment: string, service?: string | null) => Promise<SnapshotContent>;

/**
 * The repository's content builder for `push` and `snapshot`, bound to one repository. Resolution (ajv, the
 * SOPS engine) is imported on first use, so `history`, `status` and the server never load it.
 */
export function loadContentBuilder(options: {
  repoDir: string;
  /** The repository's files and strata.yaml as already read: each environment's build reuses them. */
  files?: RepoFiles;
  settings?: RepositorySettings;
  env?: NodeJS.ProcessEnv;
}): ContentBuilder {
  // An environment's content is built with every service's from one resolution; push then asks for each
  // service's slice of it.
  const built = new Map<string, Map<string | null, SnapshotContent>>();
  return async (environment, service = null) => {
    const cached = built.get(environment)?.get(service);
    if (cached !== undefined) return cached;
    const { buildSnapshotContents } = await import("../snapshot-content.js");
    const contents = await buildSnapshotContents({
      repoDir: options.repoDir,
      environment,
      services: service === null ? "all" : [service],
      ...(options.files ? { files: options.files } : {}),
      ...(options.settings ? { settings: options.settings } : {}),
      ...(options.env ? { env: options.env } : {}),
    });
    if (service === null) built.set(environment, contents);
    return contents.get(service)!;
  };
}
