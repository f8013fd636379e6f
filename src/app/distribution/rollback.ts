import { createFinding, EXIT, exitCodeFor, StrataError } from "../../core/findings.js";
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
import type { PushResult } from "./push.js";

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
    if (current.contentDigest === target.contentDigest)
      return { ...common, status: "unchanged", version: current.version, digest: current.digest, exitCode: EXIT.ok };
    const createdAt = (options.now ?? (() => new Date()))();
    const snapshot = createSnapshot(
      {
        environment,
        version: current.version + 1,
        previous: current.digest,
        rollbackOf: target.version,
        createdAt,
        ...(options.ttlMs ? { expiresAt: new Date(createdAt.getTime() + options.ttlMs) } : {}),
        source: {
          repository: target.source.repository,
          commit: target.source.commit,
          pullRequest: null,
          approvedBy: [],
          ...options.source,
        },
        contentDigest: target.contentDigest,
        config: target.config,
        secrets: target.secrets,
      },
      [options.signingKey],
    );
    const reply = await endpoint.publish(snapshot, current.version);
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
    return { ...common, status: "published", version: reply.version, digest: reply.digest, exitCode: EXIT.ok };
  } catch (error) {
    const finding = findingFromError(environment, error);
    return { ...base, status: "failed", findings: [finding], exitCode: exitCodeFor(finding.code) };
  }
}
