/**
 * The hash chain of an environment, checked from what the store holds: every stored version parses, its
 * digest matches its content and its history line, a trusted key signed it, and its `previous` is the
 * digest of the version before. The first version that fails breaks the chain; what follows it cannot be
 * trusted either way.
 */
import { isStrataError } from "../../core/findings.js";
import { computeDigest, parseSnapshot, verifySnapshot, type PublicKey } from "../../core/snapshot/index.js";
import type { HistoryEntry, SnapshotStore } from "../../io/stores/index.js";

export interface AuditedVersion {
  version: number;
  digest: string;
  previous: string | null;
  action: string;
  publishedAt: string;
  actor: string | null;
  emergency: boolean;
  /** The trusted key that signed it (its keyid), when the signature verified. */
  signedBy: string | null;
  ok: boolean;
  /** Why not: a code (`digest-mismatch`, `invalid-signature`, `chain-broken`, `missing-version`, `store-corrupt`, …). */
  problem: { code: string; message: string } | null;
}

export interface AuditedEnvironment {
  environment: string;
  ok: boolean;
  versions: AuditedVersion[];
  /** The first version that failed, or null when the chain is intact. */
  firstBad: { version: number; code: string; message: string } | null;
}

function checkVersion(
  entry: HistoryEntry,
  text: string | null,
  before: HistoryEntry | null,
  expectedVersion: number,
  trusted: readonly PublicKey[],
): { signedBy: string | null; problem: AuditedVersion["problem"] } {
  if (entry.version !== expectedVersion)
    return {
      signedBy: null,
      problem: {
        code: "chain-broken",
        message: `version ${entry.version} follows ${expectedVersion - 1}: a version is missing from the history`,
      },
    };
  if (text === null)
    return {
      signedBy: null,
      problem: { code: "missing-version", message: `the store has no snapshot for version ${entry.version}` },
    };
  let signedBy: string | null = null;
  try {
    const snapshot = parseSnapshot(text);
    if (snapshot.environment !== entry.environment || snapshot.version !== entry.version) {
      return {
        signedBy,
        problem: {
          code: "invalid-snapshot",
          message: `the stored file holds ${snapshot.environment}@${snapshot.version}`,
        },
      };
    }
    const actual = computeDigest(snapshot);
    if (actual !== entry.digest)
      return {
        signedBy,
        problem: {
          code: "digest-mismatch",
          message: `the stored content hashes to ${actual}, the history says ${entry.digest}`,
        },
      };
    signedBy = verifySnapshot(snapshot, trusted, actual);
    const expectedPrevious = before?.digest ?? null;
    if (snapshot.previous !== expectedPrevious) {
      return {
        signedBy,
        problem: {
          code: "chain-broken",
          message: `previous is ${snapshot.previous ?? "null"}, the digest of version ${entry.version - 1} is ${expectedPrevious ?? "null"}`,
        },
      };
    }
  } catch (e) {
    if (!isStrataError(e)) throw e;
    return { signedBy, problem: { code: e.code, message: e.message } };
  }
  return { signedBy, problem: null };
}

export async function auditEnvironment(
  store: SnapshotStore,
  environment: string,
  trusted: readonly PublicKey[],
): Promise<AuditedEnvironment> {
  const versions: AuditedVersion[] = [];
  let firstBad: AuditedEnvironment["firstBad"] = null;
  let history: HistoryEntry[];
  try {
    history = await store.history(environment);
  } catch (e) {
    if (!isStrataError(e)) throw e;
    return { environment, ok: false, versions, firstBad: { version: 1, code: e.code, message: e.message } };
  }
  let before: HistoryEntry | null = null;
  for (const [i, entry] of history.entries()) {
    let text: string | null = null;
    let readProblem: AuditedVersion["problem"] = null;
    try {
      text = await store.read(environment, entry.version);
    } catch (e) {
      // A store that checks what it reads reports a damaged file itself (`store-corrupt`).
      if (!isStrataError(e)) throw e;
      readProblem = { code: e.code, message: e.message };
    }
    const { signedBy, problem } =
      readProblem !== null
        ? { signedBy: null, problem: readProblem }
        : checkVersion(entry, text, before, i + 1, trusted);
    versions.push({
      version: entry.version,
      digest: entry.digest,
      previous: entry.previous,
      action: entry.action,
      publishedAt: entry.publishedAt,
      actor: entry.actor,
      emergency: entry.emergency,
      signedBy,
      ok: problem === null && firstBad === null,
      problem,
    });
    if (problem !== null && firstBad === null) firstBad = { version: entry.version, ...problem };
    before = entry;
  }
  return { environment, ok: firstBad === null, versions, firstBad };
}
