/**
 * The hash chain of an environment, checked from what the store holds: every stored version passes the
 * store reader's checks (well-formed, the version it is stored under, its digest against its content and its
 * history line, a trusted signature), and its `previous` is the digest of the version before. The first
 * version that fails breaks the chain; what follows it cannot be trusted either way.
 */
import { isStrataError } from "../../core/findings.js";
import type { AuditedEnvironment, AuditedVersion, ChainProblem, HistoryEntry } from "../../core/protocol/index.js";
import type { PublicKey } from "../../core/snapshot/index.js";
import type { SnapshotStore } from "../../io/stores/index.js";
import { verifyStoredText } from "../store-reader.js";

function checkVersion(
  entry: HistoryEntry,
  text: string | null,
  before: HistoryEntry | null,
  expectedVersion: number,
  trusted: readonly PublicKey[],
): { signedBy: string | null; problem: ChainProblem | null } {
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
  let verified;
  try {
    verified = verifyStoredText(entry.environment, entry.version, text, trusted, {
      digest: entry.digest,
      by: "the history",
    });
  } catch (e) {
    if (!isStrataError(e)) throw e;
    return { signedBy: null, problem: { code: e.code, message: e.message } };
  }
  const expectedPrevious = before?.digest ?? null;
  if (verified.snapshot.previous !== expectedPrevious) {
    return {
      signedBy: verified.signedBy,
      problem: {
        code: "chain-broken",
        message: `previous is ${verified.snapshot.previous ?? "null"}, the digest of version ${entry.version - 1} is ${expectedPrevious ?? "null"}`,
      },
    };
  }
  return { signedBy: verified.signedBy, problem: null };
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
    let readProblem: ChainProblem | null = null;
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
