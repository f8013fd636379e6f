import { createFinding, EXIT, exitCodeFor, StrataError, type Finding } from "../../core/findings.js";
import {
  createSnapshot,
  MAX_VERSION,
  verifyCurrentSnapshot,
  verifySnapshot,
  type PublicKey,
  type SigningKey,
} from "../../core/snapshot/index.js";
import { findingFromError, type CallerSource } from "./build.js";
import type { EndpointClient } from "./endpoint.js";
import type { Snapshot } from "../../core/protocol/index.js";
import type { ExitCode } from "../../core/findings.js";
import type { PushResult, ServicePushResult } from "./push.js";

export interface RollbackOptions {
  environment: string;
  to: number;
  endpoint: EndpointClient;
  signingKey: SigningKey;
  /** The old version is checked before its content is republished. */
  trustedKeys: readonly PublicKey[];
  source?: CallerSource;
  ttlMs?: number | null;
  now?: () => Date;
}

/**
 * `strata rollback --env E --to V`: a new version (versions never go backwards, so clients accept it) whose
 * content is version V's, with `rollbackOf: V`.
 */
export async function rollbackEnvironment(options: RollbackOptions): Promise<PushResult> {
  const { environment, endpoint } = options;
  const base = {
    environment,
    version: null,
    digest: null,
    contentDigest: null,
    previousVersion: null,
    action: "rollback" as const,
    findings: [],
  };
  try {
    const current = await endpoint.current(environment);
    if (current === null) throw new StrataError("unknown-environment", `nothing is published for ${environment}`);
    // The chain the rollback extends must be one the trusted keys signed (see verifyCurrentSnapshot).
    verifyCurrentSnapshot(current, environment, options.trustedKeys);
    if (current.version >= MAX_VERSION)
      throw new StrataError(
        "invalid-snapshot",
        `${environment} is at version ${current.version}: versions stop at ${MAX_VERSION}`,
      );
    if (!Number.isSafeInteger(options.to) || options.to < 1 || options.to >= current.version) {
      throw new StrataError(
        "invalid-argument",
        `--to must be an earlier version of ${environment} (1..${current.version - 1})`,
      );
    }
    const target = await endpoint.version(environment, options.to);
    if (target === null) throw new StrataError("unknown-environment", `${environment} has no version ${options.to}`);
    if (target.environment !== environment || target.version !== options.to)
      throw new StrataError(
        "invalid-snapshot",
        `the endpoint answered with ${target.environment} v${target.version} for ${environment} v${options.to}`,
      );
    verifySnapshot(target, options.trustedKeys);
    const common = { ...base, contentDigest: target.contentDigest, previousVersion: current.version };
    if (current.contentDigest === target.contentDigest) {
      // Already the content of `target` (a rollback repeated): its services may still have to follow it.
      const services = await followedBy(options, target);
      return {
        ...common,
        status: "unchanged",
        version: current.version,
        digest: current.digest,
        findings: services.findings,
        exitCode: services.exitCodes.find((c) => c !== EXIT.ok) ?? EXIT.ok,
        ...(services.results.length > 0 ? { services: services.results } : {}),
      };
    }
    const reply = await endpoint.publish(rollbackSnapshot(options, current, target), current.version);
    if (!reply.ok) {
      const finding = createFinding({
        code: "version-conflict",
        environment,
        message: `${environment}: ${reply.message}`,
        hint: "someone published meanwhile: check `strata history`, then roll back again",
      });
      return {
        ...common,
        status: "conflict",
        version: reply.current?.version ?? null,
        digest: reply.current?.digest ?? null,
        findings: [finding],
        exitCode: EXIT.distribution,
      };
    }
    const services = await followedBy(options, target);
    return {
      ...common,
      status: "published",
      version: reply.version,
      digest: reply.digest,
      findings: services.findings,
      exitCode: services.exitCodes.find((c) => c !== EXIT.ok) ?? EXIT.ok,
      ...(services.results.length > 0 ? { services: services.results } : {}),
    };
  } catch (error) {
    const finding = findingFromError(environment, error);
    return { ...base, status: "failed", findings: [finding], exitCode: exitCodeFor(finding.code) };
  }
}

/**
 * The next version of `current`'s chain with `old`'s content and `rollbackOf: old.version`: the environment's
 * rollback and each service's follow-up are the same kind of version, signed by the caller's key.
 */
function rollbackSnapshot(options: RollbackOptions, current: Snapshot, old: Snapshot, service?: string): Snapshot {
  const createdAt = (options.now ?? (() => new Date()))();
  return createSnapshot(
    {
      environment: options.environment,
      ...(service === undefined ? {} : { service }),
      version: current.version + 1,
      previous: current.digest,
      rollbackOf: old.version,
      createdAt,
      ...(options.ttlMs ? { expiresAt: new Date(createdAt.getTime() + options.ttlMs) } : {}),
      source: {
        repository: old.source.repository,
        commit: old.source.commit,
        pullRequest: null,
        approvedBy: [],
        ...options.source,
      },
      contentDigest: old.contentDigest,
      config: old.config,
      secrets: old.secrets,
    },
    [options.signingKey],
  );
}

/** The services rolled back with the environment; a failure to list them is reported with it, not over it. */
async function followedBy(
  options: RollbackOptions,
  target: Snapshot,
): Promise<{ results: ServicePushResult[]; exitCodes: ExitCode[]; findings: Finding[] }> {
  return rollbackServices(options, target).catch((error: unknown) => {
    const cause = findingFromError(options.environment, error);
    const finding = createFinding({
      code: cause.code,
      environment: options.environment,
      message: `${options.environment}: its services were not rolled back: ${cause.message}`,
      hint: "run the same rollback again once the endpoint answers: the services follow the environment's version",
    });
    return { results: [], exitCodes: [exitCodeFor(finding.code)], findings: [finding] };
  });
}

/**
 * The services' chains follow the environment back (docs/distribution.md, "Services"): each service gets the
 * content it had while the environment's version `target` was current, i.e. its last version published before
 * the environment's next one (push publishes an environment's version, then its services'). A service that had
 * no version then is left as it is.
 */
async function rollbackServices(
  options: RollbackOptions,
  target: Snapshot,
): Promise<{ results: ServicePushResult[]; exitCodes: ExitCode[]; findings: Finding[] }> {
  const { environment, endpoint } = options;
  const status = await endpoint.status();
  const row = status.environments.find((e) => e.environment === environment);
  const names = row === undefined || "error" in row ? [] : (row.services ?? []).map((s) => s.service);
  if (names.length === 0) return { results: [], exitCodes: [], findings: [] };
  const next = (await endpoint.history(environment)).find((h) => h.version === target.version + 1);
  const until = next?.publishedAt ?? null;
  const outcomes = await Promise.all(
    names.map(async (service): Promise<{ result: ServicePushResult; exitCode: ExitCode }> => {
      const base = { service, version: null, digest: null, previousVersion: null, action: null };
      const none: Finding[] = [];
      try {
        const current = await endpoint.current(environment, service);
        if (current === null)
          throw new StrataError("unknown-service", `nothing is published for ${environment}/${service}`);
        verifyCurrentSnapshot(current, environment, options.trustedKeys, "current", service);
        const then =
          until === null
            ? []
            : (await endpoint.history(environment, service)).filter(
                (h) => h.publishedAt < until && h.version < current.version,
              );
        const to = then.at(-1);
        const unchanged = {
          result: {
            ...base,
            findings: none,
            status: "unchanged",
            version: current.version,
            digest: current.digest,
            previousVersion: current.version,
          },
          exitCode: EXIT.ok,
        } as const;
        if (to === undefined || to.contentDigest === current.contentDigest) return unchanged;
        const old = await endpoint.version(environment, to.version, service);
        if (old === null) throw new StrataError("not-found", `${environment}/${service} has no version ${to.version}`);
        verifySnapshot(old, options.trustedKeys);
        if (old.environment !== environment || (old.service ?? null) !== service || old.version !== to.version)
          throw new StrataError(
            "invalid-snapshot",
            `the endpoint answered with another snapshot for ${environment}/${service} v${to.version}`,
          );
        const reply = await endpoint.publish(rollbackSnapshot(options, current, old, service), current.version);
        if (!reply.ok) {
          const finding = createFinding({
            code: "version-conflict",
            environment,
            message: `${environment}/${service}: ${reply.message}`,
            hint: "someone published meanwhile: check `strata history --service`, then roll back again",
          });
          return { result: { ...base, status: "conflict", findings: [finding] }, exitCode: EXIT.distribution };
        }
        return {
          result: {
            ...base,
            findings: none,
            status: "published",
            version: reply.version,
            digest: reply.digest,
            previousVersion: current.version,
            action: "rollback",
            rollbackOf: old.version,
          },
          exitCode: EXIT.ok,
        };
      } catch (error) {
        const finding = findingFromError(environment, error);
        return { result: { ...base, status: "failed", findings: [finding] }, exitCode: exitCodeFor(finding.code) };
      }
    }),
  );
  return { results: outcomes.map((o) => o.result), exitCodes: outcomes.map((o) => o.exitCode), findings: [] };
}
