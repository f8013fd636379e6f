import { createFinding, isStrataError, StrataError, type Finding } from "../../core/findings.js";
import {
  computeContentDigest,
  createSnapshot,
  MAX_VERSION,
  verifyCurrentSnapshot,
  type PublicKey,
  type SigningKey,
  type Snapshot,
  type SnapshotSource,
} from "../../core/snapshot/index.js";
import type { ContentBuilder, SnapshotContent } from "./content.js";

/** What the caller adds to a snapshot's `source` (git fills repository and commit). */
export type CallerSource = Partial<
  Pick<
    SnapshotSource,
    "pullRequest" | "approvedBy" | "pushedBy" | "emergency" | "dirty" | "dirtyDigest" | "pullRequests"
  >
>;

/**
 * The approval gate (`push --require-approval`): given the verified current version, the source fields of
 * the next; an `approval-required` error refuses the push like a validation error does.
 */
export type ApproveSnapshot = (environment: string, current: Snapshot | null) => Promise<CallerSource>;

export interface BuildOptions {
  environment: string;
  /** A service's snapshot of the environment (strata.yaml `services:`), on its own version chain. */
  service?: string | null;
  buildContent: ContentBuilder;
  signingKey: SigningKey;
  /** The keys the endpoint's current version must be signed by before a successor is built on it. */
  trustedKeys: readonly PublicKey[];
  source?: CallerSource;
  /** Validity from creation; default 7 days (`distribution.expires_after`). */
  ttlMs?: number | null;
  now?: () => Date;
  /**
   * Extra checks before anything is built or sent (approvals, policy). Their error findings refuse the
   * push like validation findings do.
   */
  validate?: (environment: string, content: SnapshotContent) => Promise<Finding[]>;
  /** Runs after the current version is read and verified, before anything is signed. */
  approve?: ApproveSnapshot;
}

export interface BuiltSnapshot {
  content: SnapshotContent;
  contentDigest: string;
  findings: Finding[];
  /** The version it follows (null: none, or refused before the endpoint was asked). */
  current: Snapshot | null;
  /** Null when a finding refused it. */
  snapshot: Snapshot | null;
}

/**
 * Validate first (no network: invalid configuration is refused even with the endpoint down), then read the
 * current version and build and sign version `current + 1` chained to it.
 */
export async function buildNextSnapshot(
  options: BuildOptions,
  readCurrent: () => Promise<Snapshot | null>,
): Promise<BuiltSnapshot> {
  const service = options.service ?? null;
  const content = await options.buildContent(options.environment, service);
  const findings = [
    ...content.findings,
    ...(options.validate ? await options.validate(options.environment, content) : []),
  ];
  const contentDigest = computeContentDigest(content.config, content.secretSources, content.recipients);
  if (findings.some((f) => f.severity === "error"))
    return { content, contentDigest, findings, current: null, snapshot: null };
  const current = await readCurrent();
  if (current !== null) {
    verifyCurrentSnapshot(current, options.environment, options.trustedKeys, "current", service);
    if (current.version >= MAX_VERSION)
      throw new StrataError(
        "invalid-snapshot",
        `${options.environment} is at version ${current.version}: versions stop at ${MAX_VERSION}`,
      );
  }
  let approved: CallerSource = {};
  if (options.approve) {
    try {
      approved = await options.approve(options.environment, current);
    } catch (error) {
      if (!isStrataError(error) || error.code !== "approval-required") throw error;
      const refusal = createFinding({
        code: "approval-required",
        message: error.message,
        environment: options.environment,
        hint: error.hint,
      });
      return { content, contentDigest, findings: [...findings, refusal], current, snapshot: null };
    }
  }
  const createdAt = (options.now ?? (() => new Date()))();
  const snapshot = createSnapshot(
    {
      environment: options.environment,
      ...(service !== null ? { service } : {}),
      version: (current?.version ?? 0) + 1,
      previous: current?.digest ?? null,
      createdAt,
      ...(options.ttlMs ? { expiresAt: new Date(createdAt.getTime() + options.ttlMs) } : {}),
      source: { ...content.source, ...options.source, ...approved },
      contentDigest,
      config: content.config,
      secrets: content.secrets,
    },
    [options.signingKey],
  );
  return { content, contentDigest, findings, current, snapshot };
}

/** A finding for an operational failure of one environment, so `--all` reports every environment. */
export function findingFromError(environment: string, error: unknown): Finding {
  if (error instanceof StrataError)
    return createFinding({ code: error.code, message: error.message, environment, hint: error.hint });
  throw error;
}
