import type { HistoryEntry, PublishAction } from "../../core/protocol/history.js";
import { StrataError } from "../../core/findings.js";
import { chainKey, parseChainKey } from "../../core/protocol/chains.js";
import type { Snapshot } from "../../core/protocol/snapshot.js";

/** The store engines; adding one is a compile error until this union, the interface and the table agree. */
export type StoreKind = "file" | "etcd";

/** What an environment currently serves: the pointer a publish moves, compare-and-swap. */
export interface Head {
  version: number;
  digest: string;
  contentDigest: string;
  /** When the store accepted it (RFC 3339); push-to-notify latency is measured from here. */
  publishedAt: string;
}

// The history line is a protocol document (`GET …/history`, `GET /v1/audit`): declared there.
export type { HistoryEntry, PublishAction } from "../../core/protocol/history.js";

export type PublishOutcome = { ok: true; head: Head } | { ok: false; current: Head | null };

export interface PublishRequest {
  snapshot: Snapshot;
  /** The bytes to store and serve: the canonical JSON of `snapshot`. */
  text: string;
  /** The version the publisher saw as current (0 when none); the publish succeeds only if it still is. */
  expected: number;
  action: PublishAction;
  actor: string | null;
}

/** A new current version of a chain, from this process or (etcd, shared file directory) any other. */
export interface StoreEvent {
  /** The chain's key (core/protocol/chains.ts): an environment, or an environment's service. */
  key: string;
  head: Head;
}

/**
 * The change source behind `watch` cannot read the store (a directory that became unreadable, etcd down):
 * reported once when it starts failing and once when it reads again, never silently and never every poll.
 */
export type StoreProblem = { kind: "failing"; error: Error } | { kind: "recovered" };

/**
 * Where snapshots live, one version chain per key (core/protocol/chains.ts: an environment, or one service of
 * an environment, each with its own versions and history). Versions are immutable once written; `publish` is
 * the only mutation and is a compare-and-swap on the chain's current version, so concurrent publishers never
 * lose or duplicate one. Implementations must be crash-consistent: an acknowledged publish survives, an
 * unacknowledged one is either wholly present or absent. A key that names no chain is refused.
 */
export interface SnapshotStore {
  readonly kind: StoreKind;
  /** For logs and status: the directory or the endpoints and prefix. */
  readonly description: string;
  /** The environments with a published version (their own chain; services are not listed). */
  environments(): Promise<string[]>;
  /** The services of an environment with a published version, sorted. */
  services(environment: string): Promise<string[]>;
  head(key: string): Promise<Head | null>;
  /** The stored text of one version, or null. */
  read(key: string, version: number): Promise<string | null>;
  /** Where one version is stored (its file or key), for the log line that reports it corrupted. */
  locate(key: string, version: number): string;
  /** Oldest first. */
  history(key: string): Promise<HistoryEntry[]>;
  /** Every chain's entries (services' included, each naming its service), oldest first. */
  audit(): Promise<HistoryEntry[]>;
  publish(request: PublishRequest): Promise<PublishOutcome>;
  /**
   * Calls `listener` for every new current version, at least once each, and `onProblem` when the change
   * source starts failing and when it recovers; returns the unsubscribe.
   */
  watch(listener: (event: StoreEvent) => void, onProblem?: (problem: StoreProblem) => void): () => void;
  /**
   * The fleet records the servers of this store share (the protocol's `SharedClientsDocument` text, opaque
   * here): each server replaces its own document (`server` is its id, `[A-Za-z0-9._-]`), every server reads
   * them all, and a server that stops deletes its own.
   */
  putClientRecords(server: string, text: string): Promise<void>;
  listClientRecords(): Promise<string[]>;
  deleteClientRecords(server: string): Promise<void>;
  /**
   * A chain's rollout record (src/server/rollouts: its state, its current signed plan, its decisions), opaque
   * here, with the revision a compare-and-swap names; null when the chain never had a rollout.
   */
  readRollout(key: string): Promise<StoredRollout | null>;
  /**
   * Replaces a chain's rollout record if it is still at `expected` (null: there is none yet): the new record,
   * or null when another writer got there first (re-read and decide again).
   */
  writeRollout(key: string, text: string, expected: string | null): Promise<StoredRollout | null>;
  /** The chains that have a rollout record. */
  rollouts(): Promise<string[]>;
  /**
   * Calls `listener` with a chain's key when its rollout record may have changed (this process's writes and
   * every other server's; at least once, possibly more); returns the unsubscribe.
   */
  watchRollouts(listener: (key: string) => void): () => void;
  /**
   * The health-report totals each server of this store keeps for a chain (opaque text): each server replaces
   * its own document (`server`: `[A-Za-z0-9._-]`), the decision loop reads them all.
   */
  putRolloutReports(key: string, server: string, text: string): Promise<void>;
  listRolloutReports(key: string): Promise<string[]>;
  close(): Promise<void>;
}

/** A stored rollout record and its revision (opaque: compare it, never parse it). */
export interface StoredRollout {
  text: string;
  revision: string;
}

export type StoreFactory = (location: string) => Promise<SnapshotStore>;

/** The history entry a publish appends. */
export function createHistoryEntry(
  request: Omit<PublishRequest, "text" | "expected">,
  publishedAt: string,
  recovered = false,
): HistoryEntry {
  const s = request.snapshot;
  const entry: HistoryEntry = {
    environment: s.environment,
    ...(s.service === undefined ? {} : { service: s.service }),
    version: s.version,
    digest: s.digest,
    previous: s.previous,
    rollbackOf: s.rollbackOf,
    contentDigest: s.contentDigest,
    createdAt: s.createdAt,
    expiresAt: s.expiresAt,
    publishedAt,
    action: request.action,
    emergency: s.source.emergency,
    actor: request.actor,
    source: s.source,
  };
  if (recovered) entry.recovered = true;
  return entry;
}

export function headOf(entry: HistoryEntry): Head {
  return {
    version: entry.version,
    digest: entry.digest,
    contentDigest: entry.contentDigest,
    publishedAt: entry.publishedAt,
  };
}

/**
 * Refuses a key that is not a chain's (valid names only): every store builds paths or key ranges from it, so a
 * name never reaches into another chain's keys or out of the store (`..`), whatever the caller checked.
 */
export function checkKey(key: string): void {
  if (parseChainKey(key) === null)
    throw new StrataError("invalid-argument", `invalid environment name ${JSON.stringify(key.slice(0, 100))}`);
}

/** The chain key of a snapshot: where it is stored. */
export function keyOf(snapshot: Snapshot): string {
  return chainKey({ environment: snapshot.environment, service: snapshot.service ?? null });
}

/** Zero-padded so that lexical order (directory listings, etcd ranges) is version order. */
export function padVersion(version: number): string {
  return String(version).padStart(12, "0");
}
