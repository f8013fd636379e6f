/**
 * The one verifying reader of the store. The store does not judge what it holds, and its files can be
 * truncated or edited behind the server's back: every version the server reads back (the current one when
 * it loads, any version a client asks for, the two sides of the dashboard's diff, every version of the audit
 * chain) passes these checks first. Bytes that do not verify are never served.
 */
import { isStrataError, StrataError } from "../core/findings.js";
import { chainKey, chainLabel, parseChainKey, type Snapshot } from "../core/protocol/index.js";
import { encodeSnapshot, parseSnapshot, verifySnapshot, type PublicKey } from "../core/snapshot/index.js";
import type { SnapshotStore } from "../io/stores/index.js";
import type { LogFn } from "./log.js";

interface VerifiedSnapshot {
  snapshot: Snapshot;
  /** The stored bytes, exactly: what is served. */
  text: string;
  /** The keyid of the trusted key whose signature verified. */
  signedBy: string;
}

/** The digest another record names for a version: the head pointer, or the version's history line. */
interface ExpectedDigest {
  digest: string;
  by: "the head" | "the history";
}

/**
 * Checks stored bytes as the version `version` of `environment`: well-formed, the environment and version it
 * is stored under, its content against its `digest` and against the digest the head or history names, and a
 * signature by a trusted key. Throws the failed check's code (`invalid-snapshot`, `digest-mismatch`,
 * `invalid-signature`).
 */
export function verifyStoredText(
  key: string,
  version: number,
  text: string,
  trusted: readonly PublicKey[],
  expected: ExpectedDigest | null = null,
): VerifiedSnapshot {
  const snapshot = parseSnapshot(text);
  // A service's chain holds that service's snapshots only: never the environment's, nor another service's.
  const held = { environment: snapshot.environment, service: snapshot.service ?? null };
  if (chainKey(held) !== key || snapshot.version !== version)
    throw new StrataError("invalid-snapshot", `the stored file holds ${chainLabel(held)} v${snapshot.version}`);
  const { actualDigest } = encodeSnapshot(snapshot);
  if (expected !== null && actualDigest !== expected.digest)
    throw new StrataError(
      "digest-mismatch",
      `the stored content hashes to ${actualDigest}, ${expected.by} names ${expected.digest}`,
    );
  return { snapshot, text, signedBy: verifySnapshot(snapshot, trusted, actualDigest) };
}

export class StoreReader {
  constructor(
    private readonly store: SnapshotStore,
    private readonly trusted: readonly PublicKey[],
    private readonly log: LogFn,
  ) {}

  /**
   * One version, verified; null when the store has no such version. Throws `store-corrupt` (after logging
   * the file or key) when the stored bytes do not verify.
   */
  async read(
    environment: string,
    version: number,
    expected: ExpectedDigest | null = null,
  ): Promise<VerifiedSnapshot | null> {
    const text = await this.store.read(environment, version);
    if (text === null) return null;
    try {
      return verifyStoredText(environment, version, text, this.trusted, expected);
    } catch (e) {
      if (!isStrataError(e)) throw e;
      throw this.corrupt(environment, version, e.message);
    }
  }

  /** The `store-corrupt` error for a version, logged with where it is stored. */
  corrupt(environment: string, version: number, reason: string): StrataError {
    const location = this.store.locate(environment, version);
    const chain = parseChainKey(environment);
    this.log("error", "store-corrupt", { environment, version, file: location, reason });
    return new StrataError(
      "store-corrupt",
      `the store's copy of ${chain === null ? environment : chainLabel(chain)} v${version} does not verify (${reason}); it is not served`,
      { hint: `restore ${location} from a backup, or publish a new version` },
    );
  }
}
