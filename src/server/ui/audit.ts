/**
 * The hash chain of an environment, checked from what the store holds: every stored version passes the
 * store reader's checks (well-formed, the version it is stored under, its digest against its content and its
 * history line, a trusted signature), its `previous` is the digest of the version before, and its history
 * line says what the signed snapshot says (who pushed it, the pull requests and their approvers, the
 * emergency flag, the times): the history file is not signed, so a line edited to invent approvers is a
 * break, not a fact. The first version that fails breaks the chain; what follows it cannot be trusted either
 * way.
 *
 * Versions never change, so each one's verification (parse, canonical digest, signature) is done once and
 * kept, keyed by the stored bytes' SHA-256: an edit of the stored file behind the server's back is new bytes,
 * checked again (and failing). What is kept is the snapshot's metadata only, never its configuration. On a
 * file store the bytes are not even read again while the file's identity is unchanged (device, inode, size,
 * modification and change times: any write moves the change time, which only the system clock sets):
 * reading 25,000 files costs seconds, looking at them a tenth of one.
 */
import { statSync } from "node:fs";
import { setImmediate as yieldToEvents } from "node:timers/promises";
import { isStrataError } from "../../core/findings.js";
import type {
  AuditedEnvironment,
  AuditedVersion,
  ChainProblem,
  HistoryEntry,
  SnapshotMetadata,
} from "../../core/protocol/index.js";
import { canonicalJson, sha256Hex, type PublicKey } from "../../core/snapshot/index.js";
import type { SnapshotStore } from "../../io/stores/index.js";
import { verifyStoredText } from "../store-reader.js";

/** What one stored version's bytes verified to (or why they did not). */
type Verification =
  | { ok: true; metadata: SnapshotMetadata; signedBy: string; digest: string; canonicalSource: string }
  | { ok: false; problem: ChainProblem };

/** One environment's chain, checked: every version oldest first, and the first that failed. */
export interface CheckedChain {
  environment: string;
  versions: AuditedVersion[];
  firstBad: AuditedEnvironment["firstBad"];
}

/**
 * The history line's fields that the signed snapshot also holds: each must agree. `digest` is compared by
 * the store reader's check; `action`, `publishedAt` and `actor` are the server's own record (when it accepted
 * the publish, with which token) and have nothing signed to be compared with.
 */
function historyMismatch(entry: HistoryEntry, s: SnapshotMetadata, canonicalSource: string): string[] {
  const out: string[] = [];
  if (entry.previous !== s.previous) out.push("previous");
  if (entry.rollbackOf !== s.rollbackOf) out.push("rollbackOf");
  if (entry.contentDigest !== s.contentDigest) out.push("contentDigest");
  if (entry.createdAt !== s.createdAt) out.push("createdAt");
  if (entry.expiresAt !== s.expiresAt) out.push("expiresAt");
  if (entry.emergency !== s.source.emergency) out.push("emergency");
  if (canonicalJson(entry.source) !== canonicalSource) {
    for (const k of new Set([...Object.keys(entry.source), ...Object.keys(s.source)]))
      if (
        canonicalJson((entry.source as unknown as Record<string, unknown>)[k] ?? null) !==
        canonicalJson((s.source as unknown as Record<string, unknown>)[k] ?? null)
      )
        out.push(`source.${k}`);
  }
  if ((entry.action === "rollback") !== (s.rollbackOf !== null)) out.push("action");
  return out;
}

/** Every version's verification, kept for the server's lifetime (see the module comment). */
export class ChainChecker {
  /**
   * `environment NUL version` -> the SHA-256 of the bytes checked, the file's identity when they were read
   * (file store), and what they verified to.
   */
  private readonly verified = new Map<string, { bytes: string; stamp: string | null; result: Verification }>();

  constructor(
    private readonly store: SnapshotStore,
    private readonly trusted: readonly PublicKey[],
  ) {}

  /** How many times stored bytes were verified (parsed, hashed canonically, signature checked): the cache's measure. */
  verifications = 0;
  /** How many times stored bytes were read. */
  reads = 0;

  /** One stored version, verified against the digest its history line names; null when the store has none. */
  private async verify(entry: HistoryEntry): Promise<Verification | null> {
    const environment = entry.environment;
    const key = `${environment}\u0000${entry.version}`;
    const kept = this.verified.get(key);
    const stamp = this.stampOf(environment, entry.version);
    let result: Verification;
    if (kept !== undefined && stamp !== null && kept.stamp === stamp) result = kept.result;
    else {
      let text: string | null;
      this.reads++;
      try {
        text = await this.store.read(environment, entry.version);
      } catch (e) {
        // A store that checks what it reads reports a damaged file itself (`store-corrupt`).
        if (!isStrataError(e)) throw e;
        return { ok: false, problem: { code: e.code, message: e.message } };
      }
      if (text === null) return null;
      const bytes = sha256Hex(text);
      result = kept !== undefined && kept.bytes === bytes ? kept.result : this.verifyText(entry, text);
      this.verified.set(key, { bytes, stamp, result });
    }
    // The digest the history line names is compared on every check: the line may have been edited since.
    if (result.ok && result.digest !== entry.digest)
      return {
        ok: false,
        problem: {
          code: "digest-mismatch",
          message: `the stored content hashes to ${result.digest}, the history names ${entry.digest}`,
        },
      };
    return result;
  }

  /** A file store's version file's identity (see the module comment); null on other stores, or no file. */
  private stampOf(environment: string, version: number): string | null {
    if (this.store.kind !== "file") return null;
    try {
      const s = statSync(this.store.locate(environment, version), { bigint: true });
      return `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}:${s.ctimeNs}`;
    } catch {
      return null;
    }
  }

  private verifyText(entry: HistoryEntry, text: string): Verification {
    this.verifications++;
    try {
      const v = verifyStoredText(entry.environment, entry.version, text, this.trusted);
      const { config: _c, secrets: _s, ...metadata } = v.snapshot;
      return {
        ok: true,
        metadata,
        signedBy: v.signedBy,
        digest: v.snapshot.digest,
        canonicalSource: canonicalJson(metadata.source),
      };
    } catch (e) {
      if (!isStrataError(e)) throw e;
      return { ok: false, problem: { code: e.code, message: e.message } };
    }
  }

  /**
   * The version an environment serves (its history's last line) and its stored snapshot's metadata, verified;
   * `problem` (`store-corrupt`) instead when the stored bytes do not verify. Null when nothing is published.
   */
  async latest(
    environment: string,
  ): Promise<{ entry: HistoryEntry; metadata: SnapshotMetadata | null; problem: ChainProblem | null } | null> {
    const entry = (await this.store.history(environment)).at(-1);
    if (entry === undefined) return null;
    const v = await this.verify(entry);
    if (v !== null && v.ok) {
      const mismatch = historyMismatch(entry, v.metadata, v.canonicalSource);
      return {
        entry,
        metadata: v.metadata,
        problem:
          mismatch.length === 0
            ? null
            : {
                code: "history-mismatch",
                message: `the history line's ${mismatch.join(", ")} differ from the signed snapshot`,
              },
      };
    }
    const reason = v === null ? "the store has no snapshot for it" : v.problem.message;
    return {
      entry,
      metadata: null,
      problem: {
        code: "store-corrupt",
        message: `the store's copy of ${environment} v${entry.version} does not verify (${reason}); it is not served`,
      },
    };
  }

  /** The chain of one environment, every version oldest first. */
  async check(environment: string): Promise<CheckedChain> {
    const versions: AuditedVersion[] = [];
    let firstBad: CheckedChain["firstBad"] = null;
    let history: HistoryEntry[];
    try {
      history = await this.store.history(environment);
    } catch (e) {
      if (!isStrataError(e)) throw e;
      return { environment, versions, firstBad: { version: 1, code: e.code, message: e.message } };
    }
    // The file identities are looked at synchronously (fast), an environment at a time: let other requests in.
    await yieldToEvents();
    let before: HistoryEntry | null = null;
    for (const [i, entry] of history.entries()) {
      const expectedVersion = i + 1;
      let problem: ChainProblem | null = null;
      let metadata: SnapshotMetadata | null = null;
      let signedBy: string | null = null;
      if (entry.version !== expectedVersion)
        problem = {
          code: "chain-broken",
          message: `version ${entry.version} follows ${expectedVersion - 1}: a version is missing from the history`,
        };
      else {
        const v = await this.verify(entry);
        if (v === null)
          problem = { code: "missing-version", message: `the store has no snapshot for version ${entry.version}` };
        else if (!v.ok) problem = v.problem;
        else {
          metadata = v.metadata;
          signedBy = v.signedBy;
          const expectedPrevious = before?.digest ?? null;
          const mismatch = historyMismatch(entry, v.metadata, v.canonicalSource);
          if (v.metadata.previous !== expectedPrevious)
            problem = {
              code: "chain-broken",
              message: `previous is ${v.metadata.previous ?? "null"}, the digest of version ${entry.version - 1} is ${expectedPrevious ?? "null"}`,
            };
          else if (mismatch.length > 0)
            problem = {
              code: "history-mismatch",
              message: `the history line's ${mismatch.join(", ")} ${mismatch.length === 1 ? "differs" : "differ"} from the signed snapshot (the snapshot's are shown)`,
            };
        }
      }
      versions.push({
        version: entry.version,
        digest: entry.digest,
        previous: metadata?.previous ?? entry.previous,
        action: entry.action,
        publishedAt: entry.publishedAt,
        actor: entry.actor,
        // Who, which pull requests and the emergency flag only from a snapshot whose signature verified.
        source: metadata?.source ?? null,
        emergency: metadata?.source.emergency ?? false,
        rollbackOf: metadata?.rollbackOf ?? null,
        createdAt: metadata?.createdAt ?? null,
        expiresAt: metadata?.expiresAt ?? null,
        signedBy,
        ok: problem === null && firstBad === null,
        problem,
      });
      if (problem !== null && firstBad === null) firstBad = { version: entry.version, ...problem };
      before = entry;
    }
    return { environment, versions, firstBad };
  }
}

/** The default and the largest page of versions (newest first) an answer holds. */
export const PAGE_SIZE = 25;
export const MAX_PAGE_SIZE = 200;

/**
 * A page of a checked chain, newest first: the versions below `before` (all, when null), at most `limit`.
 * `next` is the `before` of the following page, null on the last one.
 */
function pageOf(
  chain: CheckedChain,
  before: number | null,
  limit: number,
): Pick<AuditedEnvironment, "versions" | "next"> {
  const below = before === null ? chain.versions : chain.versions.filter((v) => v.version < before);
  const versions = limit === 0 ? [] : below.slice(-limit).reverse();
  const oldest = versions.at(-1)?.version ?? null;
  return { versions, next: oldest !== null && below.length > limit ? oldest : null };
}

/** The audit answer of one environment: its chain's verdict and one page of its versions. */
export function auditedEnvironment(chain: CheckedChain, before: number | null, limit: number): AuditedEnvironment {
  return {
    environment: chain.environment,
    ok: chain.firstBad === null,
    count: chain.versions.length,
    firstBad: chain.firstBad,
    ...pageOf(chain, before, limit),
  };
}
