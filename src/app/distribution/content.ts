import { StrataError, type Finding } from "../../core/findings.js";
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

type BuildSnapshotContent = (options: { repoDir: string; environment: string; env?: NodeJS.ProcessEnv }) => Promise<SnapshotContent>;

/**
 * The repository's content builder (`buildSnapshotContent` of app/snapshot-content.ts, on main). Loaded by
 * a computed specifier so that this module compiles before that one exists; replace it with a static import
 * once both are on one branch.
 */
export async function loadContentBuilder(options: { repoDir: string; env?: NodeJS.ProcessEnv }): Promise<ContentBuilder> {
  const specifier = ["..", "snapshot-content.js"].join("/");
  let build: BuildSnapshotContent | undefined;
  try {
    build = ((await import(specifier)) as { buildSnapshotContent?: BuildSnapshotContent }).buildSnapshotContent;
  } catch (cause) {
    throw new StrataError("internal", "this build of strata has no snapshot content builder (app/snapshot-content.js)", { cause });
  }
  if (build === undefined) throw new StrataError("internal", "app/snapshot-content.js exports no buildSnapshotContent");
  const b = build;
  return (environment) => b({ repoDir: options.repoDir, environment, ...(options.env ? { env: options.env } : {}) });
}
