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

/** One service's chain in a push (strata.yaml `services:`): published only when its own content changed. */
export interface ServicePushResult {
  service: string;
  status: PushStatus;
  version: number | null;
  digest: string | null;
  previousVersion: number | null;
  action: "publish" | "refresh" | "rollback" | null;
  /** `strata rollback`: the service's version whose content it republished. */
  rollbackOf?: number;
  /** Why it was not published (a conflict, a failure); empty otherwise. */
  findings: Finding[];
}

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
  /** The services the environment runs, each on its own chain (absent when it declares none). */
  services?: ServicePushResult[];
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
      // The environment's content is the same; a service's may not be (its recipients, its declaration).
      const services = await pushServices(options, built.content.services ?? [], built.snapshot);
      return {
        ...common,
        status: "unchanged",
        version: current.version,
        digest: current.digest,
        exitCode: combineExitCodes(services.exitCodes),
        ...(services.results.length > 0 ? { services: services.results } : {}),
      };
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
    const services = await pushServices(options, built.content.services ?? [], built.snapshot);
    return {
      ...common,
      status: "published",
      version: reply.version,
      digest: reply.digest,
      action,
      exitCode: combineExitCodes([exitCodeForFindings(built.findings), ...services.exitCodes]),
      ...(built.snapshot.source.pullRequests ? { pullRequests: built.snapshot.source.pullRequests } : {}),
      ...(services.results.length > 0 ? { services: services.results } : {}),
    };
  } catch (error) {
    const finding = findingFromError(environment, error);
    return { ...base, status: "failed", findings: [finding], exitCode: exitCodeFor(finding.code) };
  }
}

/**
 * The services' chains of an environment, after its own: each service's slice of the same build (the same
 * commit, the same approval fields as `environment`'s snapshot), published only when its content digest
 * changed (or with `refresh`), so a change to one namespace moves only the chains of services that declare it.
 */
async function pushServices(
  options: PushOptions,
  services: readonly string[],
  environment: Snapshot,
): Promise<{ results: ServicePushResult[]; exitCodes: ExitCode[] }> {
  const { approve: _approve, validate: _validate, ...rest } = options;
  const { repository: _r, commit: _c, ...approved } = environment.source;
  // Each chain is its own compare-and-swap: they are read, built and published side by side (the round
  // trips overlap; the store orders the writes).
  const outcomes = await Promise.all(
    services.map(async (service): Promise<{ result: ServicePushResult; exitCode: ExitCode }> => {
      const base = { service, version: null, digest: null, previousVersion: null, action: null } as const;
      try {
        const built = await buildNextSnapshot({ ...rest, service, source: { ...options.source, ...approved } }, () =>
          options.endpoint.current(options.environment, service),
        );
        const current = built.current;
        const common = { ...base, previousVersion: current?.version ?? null, findings: built.findings };
        if (built.snapshot === null)
          return { result: { ...common, status: "refused" }, exitCode: exitCodeForFindings(built.findings) };
        if (current !== null && current.contentDigest === built.contentDigest && options.refresh !== true)
          return {
            result: { ...common, status: "unchanged", version: current.version, digest: current.digest },
            exitCode: EXIT.ok,
          };
        const reply = await options.endpoint.publish(built.snapshot, current?.version ?? 0);
        if (!reply.ok) {
          const finding = createFinding({
            code: "version-conflict",
            environment: options.environment,
            message: `${options.environment}/${service}: ${reply.message}`,
            hint: "someone published meanwhile: check `strata history --service`, then push again",
          });
          return {
            result: { ...common, status: "conflict", findings: [...built.findings, finding] },
            exitCode: EXIT.distribution,
          };
        }
        const action = current !== null && current.contentDigest === built.contentDigest ? "refresh" : "publish";
        return {
          result: { ...common, status: "published", version: reply.version, digest: reply.digest, action },
          exitCode: EXIT.ok,
        };
      } catch (error) {
        const finding = findingFromError(options.environment, error);
        return { result: { ...base, status: "failed", findings: [finding] }, exitCode: exitCodeFor(finding.code) };
      }
    }),
  );
  return { results: outcomes.map((o) => o.result), exitCodes: outcomes.map((o) => o.exitCode) };
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
