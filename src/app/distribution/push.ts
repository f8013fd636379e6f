import {
  EXIT,
  combineExitCodes,
  createFinding,
  exitCodeFor,
  exitCodeForFindings,
  type ExitCode,
  type Finding,
} from "../../core/findings.js";
import {
  verifyCurrentSnapshot,
  type PublishedPullRequest,
  type Snapshot,
  type VersionRef,
} from "../../core/snapshot/index.js";
import { buildNextSnapshot, findingFromError, type BuildOptions } from "./build.js";
import type { EndpointClient } from "./endpoint.js";

export type PushStatus = "published" | "unchanged" | "refused" | "conflict" | "failed";

export interface PushResult {
  environment: string;
  status: PushStatus;
  /** The version published, or the current one when unchanged / in conflict. */
  version: number | null;
  digest: string | null;
  contentDigest: string | null;
  previousVersion: number | null;
  action: "publish" | "refresh" | "rollback" | null;
  findings: Finding[];
  exitCode: ExitCode;
  /** Published under the approval gate: the pull requests the version publishes, with their approvers. */
  pullRequests?: PublishedPullRequest[];
}

export interface PushOptions extends BuildOptions {
  endpoint: EndpointClient;
  /** Publish even when the content is unchanged: a new version with a new `expiresAt`. */
  refresh?: boolean;
  /** Publish even the content a rollback just replaced (the rollback guard). */
  force?: boolean;
}

/**
 * The rollback guard: when the current version is a rollback and the content to publish is the content of
 * the version it replaced, a plain push would silently undo the rollback. Returns the refusal, or null.
 */
async function checkRollbackGuard(
  options: PushOptions,
  current: Snapshot,
  contentDigest: string,
): Promise<Finding | null> {
  if (current.rollbackOf === null || options.force === true || current.contentDigest === contentDigest) return null;
  const replaced = await options.endpoint.version(options.environment, current.version - 1);
  if (replaced === null) return null;
  verifyCurrentSnapshot(replaced, options.environment, options.trustedKeys, `version ${current.version - 1}`);
  if (replaced.version !== current.version - 1 || replaced.contentDigest !== contentDigest) return null;
  return createFinding({
    code: "push-failed",
    environment: options.environment,
    message: `${options.environment}: version ${current.version} rolled back to the content of version ${current.rollbackOf}, replacing version ${replaced.version}; this push would republish version ${replaced.version}'s content and undo that rollback`,
    hint: "fix forward in git (commit the change that repairs it), or pass --force to publish this content anyway",
  });
}

/**
 * `strata push --env E`: validate, build, sign and publish with compare-and-swap. Unchanged content
 * (`contentDigest` equal to the current version's) is a no-op unless `refresh`. A conflict means someone
 * else published first: the current version is re-read and reported, never retried blindly over it.
 */
export async function pushEnvironment(options: PushOptions): Promise<PushResult> {
  const environment = options.environment;
  const base = {
    environment,
    version: null,
    digest: null,
    contentDigest: null,
    previousVersion: null,
    action: null,
  } as const;
  try {
    const built = await buildNextSnapshot(options, () => options.endpoint.current(environment));
    const current = built.current;
    const common = {
      ...base,
      contentDigest: built.contentDigest,
      previousVersion: current?.version ?? null,
      findings: built.findings,
    };
    if (built.snapshot === null) return { ...common, status: "refused", exitCode: exitCodeForFindings(built.findings) };
    if (current !== null && current.contentDigest === built.contentDigest && options.refresh !== true) {
      return { ...common, status: "unchanged", version: current.version, digest: current.digest, exitCode: EXIT.ok };
    }
    const guard = current === null ? null : await checkRollbackGuard(options, current, built.contentDigest);
    if (guard !== null)
      return {
        ...common,
        status: "refused",
        version: current!.version,
        digest: current!.digest,
        findings: [...built.findings, guard],
        exitCode: EXIT.distribution,
      };
    const reply = await options.endpoint.publish(built.snapshot, current?.version ?? 0);
    if (!reply.ok) {
      const now: VersionRef | null = reply.current ?? (await options.endpoint.current(environment).catch(() => null));
      const finding = createFinding({
        code: "version-conflict",
        environment,
        message: `${environment}: ${reply.message}; the current version is now ${now?.version ?? 0}`,
        hint: "someone published meanwhile: check `strata history`, then push again",
      });
      return {
        ...common,
        status: "conflict",
        version: now?.version ?? null,
        digest: now?.digest ?? null,
        findings: [...built.findings, finding],
        exitCode: EXIT.distribution,
      };
    }
    const action = current !== null && current.contentDigest === built.contentDigest ? "refresh" : "publish";
    return {
      ...common,
      status: "published",
      version: reply.version,
      digest: reply.digest,
      action,
      exitCode: exitCodeForFindings(built.findings),
      ...(built.snapshot.source.pullRequests ? { pullRequests: built.snapshot.source.pullRequests } : {}),
    };
  } catch (error) {
    const finding = findingFromError(environment, error);
    return { ...base, status: "failed", findings: [finding], exitCode: exitCodeFor(finding.code) };
  }
}

/** `strata push --all`: every environment, each reported; the exit code is the first that applies. */
export async function pushEnvironments(
  environments: readonly string[],
  options: Omit<PushOptions, "environment">,
): Promise<{ results: PushResult[]; exitCode: ExitCode }> {
  const results: PushResult[] = [];
  for (const environment of environments) results.push(await pushEnvironment({ ...options, environment }));
  return { results, exitCode: combineExitCodes(results.map((r) => r.exitCode)) };
}
