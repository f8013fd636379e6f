/**
 * The per-chain verified cache and watch. Each published chain's current snapshot (an environment's, or one
 * of its services', keyed as core/protocol/chains.ts says) is kept in memory as the exact bytes to send
 * (verified once, when it loads), updated from the store's watch, so a read is a hash lookup and a write of
 * a prepared buffer, and subscribers (long-polls, event streams) are woken by the same event, whichever
 * server published the version: a new version of one service wakes only that service's subscribers. Names
 * that were never published leave nothing behind.
 */
import { EMBEDDED_SNAPSHOT_MAX_BYTES, formatSnapshotEvent, parseChainKey } from "../core/protocol/index.js";
import type { Head, SnapshotStore, StoreEvent } from "../io/stores/index.js";
import type { LogFn } from "./log.js";
import type { ServerMetrics } from "./metrics.js";
import type { StoreReader } from "./store-reader.js";

/** Belt and braces: a version whose event was lost, or whose load failed, is picked up this often. */
const RECONCILE_MS = 5_000;

/** An environment's current version, verified, ready to send. */
export interface Current {
  head: Head;
  body: Buffer;
  etag: string;
  /** Its event-stream frame, encoded once: the same bytes written to every open stream when it is published. */
  frame: Buffer;
  /** The same with the snapshot inside when it is small (streams that ask for it); else `frame` itself. */
  frameWithSnapshot: Buffer;
  createdAt: string;
  expiresAt: string;
}

/** A snapshot this server is publishing, with the fields it would otherwise parse the text again for. */
interface LocalText {
  digest: string;
  text: string;
  createdAt: string;
  expiresAt: string;
}

/** Someone waiting on an environment: a long-poll or an event stream. */
interface Subscriber {
  /** A newer version is current. */
  onVersion(current: Current): void;
  /** A new rollout plan of the chain (its `plan` frame): event streams send it, long-polls ignore it. */
  onPlan?(frame: string): void;
  /** The server is shutting down. */
  onClose(): void;
}

/** Someone following every environment: `GET /v1/events`. */
interface AllSubscriber {
  onVersion(environment: string, current: Current): void;
  onClose(): void;
}

interface EnvState {
  current: Current | null;
  loaded: Promise<void> | null;
  /** Serializes updates so versions are applied in order. */
  chain: Promise<void>;
  subscribers: Set<Subscriber>;
}

function toCurrent(key: string, head: Head, text: string, createdAt: string, expiresAt: string): Current {
  const { environment, service } = parseChainKey(key)!;
  const body = Buffer.from(text, "utf8");
  const data = { environment, ...(service === null ? {} : { service }), version: head.version, digest: head.digest };
  const frame = Buffer.from(formatSnapshotEvent(data));
  return {
    head,
    body,
    etag: `"${head.version}"`,
    frame,
    frameWithSnapshot:
      body.length <= EMBEDDED_SNAPSHOT_MAX_BYTES
        ? Buffer.from(formatSnapshotEvent({ ...data, snapshot: text }))
        : frame,
    createdAt,
    expiresAt,
  };
}

export class EnvironmentCache {
  private readonly envs = new Map<string, EnvState>();
  /** Texts this server is publishing, so its own new version is not read back from the store. */
  private readonly localTexts = new Map<string, LocalText>();
  private unwatch: () => void = () => undefined;
  private reconcileTimer: NodeJS.Timeout | null = null;
  private closing = false;
  /** Environments whose head the reconcile loop cannot read (logged once, until it can again). */
  private readonly unreadable = new Set<string>();
  private readonly allSubscribers = new Set<AllSubscriber>();
  /**
   * Runs before a new version of a chain is announced (the rollouts re-read the chain's plan, so a plan
   * naming the version always reaches the streams before the version does).
   */
  beforeVersion: ((key: string) => Promise<void>) | null = null;

  constructor(
    private readonly store: SnapshotStore,
    private readonly reader: StoreReader,
    private readonly metrics: ServerMetrics,
    private readonly log: LogFn,
  ) {}

  /** Subscribes to the store before anything is read, so no version published meanwhile is missed. */
  start(): void {
    // The change feed's own failures (the file store's poll, etcd's resync) are told once each way.
    this.unwatch = this.store.watch(
      (e) => this.onStoreEvent(e),
      (p) =>
        p.kind === "failing"
          ? this.log("warn", "store watch failing", { error: p.error.message })
          : this.log("info", "store watch recovered"),
    );
    this.reconcileTimer = setInterval(() => void this.reconcile(), RECONCILE_MS);
    this.reconcileTimer.unref();
  }

  /** Environments this server holds state for (published ones, and unpublished ones with a subscriber). */
  get size(): number {
    return this.envs.size;
  }

  /** The current version of every loaded environment (the `strata_current_version` gauge; not services'). */
  versions(): [string, number][] {
    return [...this.envs]
      .filter(([k, s]) => s.current !== null && parseChainKey(k)?.service === null)
      .map(([e, s]) => [e, s.current!.head.version]);
  }

  /** The loaded current version without waiting (the hot path), or undefined when it is not loaded. */
  peek(environment: string): Current | undefined {
    const s = this.envs.get(environment);
    return s !== undefined && s.loaded !== null && s.current !== null ? s.current : undefined;
  }

  /** The newest version held for an environment, loaded or not (null: none). */
  latest(environment: string): Current | null {
    return this.envs.get(environment)?.current ?? null;
  }

  /** The current version, loaded (and verified) on first use; null when nothing is published. */
  async current(environment: string): Promise<Current | null> {
    const s = this.state(environment);
    s.loaded ??= this.enqueue(environment, async () => {
      const head = await this.store.head(environment);
      if (head !== null && (s.current === null || s.current.head.version < head.version))
        s.current = await this.load(environment, head);
    }).catch((e: unknown) => {
      s.loaded = null;
      throw e;
    });
    try {
      await s.loaded;
    } finally {
      if (s.current === null) this.forgetIfUnused(environment, s);
    }
    return s.current;
  }

  /**
   * Calls `subscriber` on every newer version of `environment` until the returned function is called (which
   * also lets an environment that has nothing published be forgotten).
   */
  subscribe(environment: string, subscriber: Subscriber): () => void {
    this.state(environment).subscribers.add(subscriber);
    return () => this.unsubscribe(environment, subscriber);
  }

  /** Ends {@link subscribe}'s calls (what its returned function does, for a caller that keeps no closure). */
  unsubscribe(environment: string, subscriber: Subscriber): void {
    const s = this.envs.get(environment);
    if (s === undefined || !s.subscribers.delete(subscriber)) return;
    if (s.current === null) this.forgetIfUnused(environment, s);
  }

  /**
   * Calls `listener` with every new current version of any environment (`GET /v1/events`) until the returned
   * function is called.
   */
  subscribeAll(listener: AllSubscriber): () => void {
    this.allSubscribers.add(listener);
    return () => this.allSubscribers.delete(listener);
  }

  /**
   * Runs a publish of this server with its text at hand, so its store event needs no read back, and returns
   * once the new version is this server's current: a publisher answered 201 reads its own write (its next
   * If-Match, a GET right after), however long announcing the version takes.
   */
  async publishing<T>(environment: string, version: number, local: LocalText, publish: () => Promise<T>): Promise<T> {
    const key = `${environment}@${version}`;
    this.localTexts.set(key, local);
    try {
      const result = await publish();
      // The store emitted its event before publish returned, so applying it is already queued on the chain.
      await this.state(environment).chain;
      return result;
    } finally {
      if (this.localTexts.get(key) === local) this.localTexts.delete(key);
    }
  }

  /** Sends a chain's new rollout plan frame to its subscribers. */
  announce(key: string, frame: string): void {
    const s = this.envs.get(key);
    if (s !== undefined) for (const sub of [...s.subscribers]) sub.onPlan?.(frame);
  }

  /** Shutting down: every subscriber is told, and no more reconciling. */
  close(): void {
    this.closing = true;
    for (const s of this.envs.values()) for (const sub of [...s.subscribers]) sub.onClose();
    for (const sub of [...this.allSubscribers]) sub.onClose();
    if (this.reconcileTimer !== null) clearInterval(this.reconcileTimer);
    this.unwatch();
  }

  private state(environment: string): EnvState {
    let s = this.envs.get(environment);
    if (s === undefined)
      this.envs.set(
        environment,
        (s = { current: null, loaded: null, chain: Promise.resolve(), subscribers: new Set() }),
      );
    return s;
  }

  /**
   * Drops the state of an environment that has nothing published and nobody waiting, so requests for names
   * that were never published leave nothing behind (no memory, no reconcile polling).
   */
  private forgetIfUnused(environment: string, state: EnvState): void {
    // Only this very state: a newer one for the same name may be loading a version published meanwhile.
    if (this.envs.get(environment) === state && state.current === null && state.subscribers.size === 0)
      this.envs.delete(environment);
  }

  private async load(environment: string, head: Head, local: LocalText | null = null): Promise<Current> {
    if (local !== null) return toCurrent(environment, head, local.text, local.createdAt, local.expiresAt);
    const read = await this.reader.read(environment, head.version, { digest: head.digest, by: "the head" });
    if (read === null)
      throw this.reader.corrupt(environment, head.version, `the current version ${head.version} is missing`);
    return toCurrent(environment, head, read.text, read.snapshot.createdAt, read.snapshot.expiresAt);
  }

  private enqueue(environment: string, fn: () => Promise<void>): Promise<void> {
    const s = this.state(environment);
    const run = s.chain.then(fn);
    s.chain = run.catch(() => undefined);
    return run;
  }

  private onStoreEvent(event: StoreEvent): void {
    const { key: environment, head } = event;
    // Our own publish: its text is at hand (only for exactly this digest: a losing publish has the same key).
    const local = this.localTexts.get(`${environment}@${head.version}`);
    const localText = local !== undefined && local.digest === head.digest ? local : null;
    void this.enqueue(environment, async () => {
      const s = this.state(environment);
      if (s.current !== null && s.current.head.version >= head.version) return;
      const current = await this.load(environment, head, localText);
      if (this.beforeVersion !== null) await this.beforeVersion(environment).catch(() => undefined);
      s.current = current;
      s.loaded ??= Promise.resolve();
      this.metrics.pushToNotify.observe(Math.max(0, Date.now() - Date.parse(head.publishedAt)) / 1000);
      for (const sub of [...s.subscribers]) sub.onVersion(current);
      for (const sub of [...this.allSubscribers]) sub.onVersion(environment, current);
    }).catch((e: unknown) =>
      this.log("error", "cannot load a new version", {
        environment,
        version: head.version,
        error: (e as Error).message,
      }),
    );
  }

  private async reconcile(): Promise<void> {
    for (const [environment, s] of this.envs) {
      if (s.loaded === null || this.closing) continue;
      let head: Head | null;
      try {
        head = await this.store.head(environment);
        if (this.unreadable.delete(environment)) this.log("info", "the store answers again", { environment });
      } catch (e) {
        if (!this.unreadable.has(environment))
          this.log("warn", "cannot read the current version from the store", {
            environment,
            error: (e as Error).message,
          });
        this.unreadable.add(environment);
        continue;
      }
      if (head !== null && head.version > (s.current?.head.version ?? 0)) this.onStoreEvent({ key: environment, head });
    }
  }
}
