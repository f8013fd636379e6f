/**
 * The runtime client's public face: it loads the environment's current snapshot, verifies it, serves it
 * from memory and follows the endpoint, swapping in each newer snapshot only after it passed every check.
 * docs/runtime.md describes the rules. The work is done by its parts: the accepted state (state.ts: verify,
 * swap, cache file, freshness), the follower (follower.ts: events, long-poll, backoff) and the connection
 * (connection.ts: requests to the endpoint).
 */
import type { RejectionCode, SnapshotMetadata } from "../core/protocol/index.js";
import { Connection } from "./connection.js";
import { isRejection, StrataClientError } from "./errors.js";
import { Emitter, type ClientEvents, type Listener, type WatchEvent } from "./events.js";
import { Follower } from "./follower.js";
import { Lifetime } from "./lifetime.js";
import { resolveSettings, type ClientOptions, type Settings } from "./options.js";
import { AcceptedState, type ConfigSource } from "./state.js";
import type { DeepReadonly, KeyPath, ValueAt } from "./types.js";

export type { ClientOptions } from "./options.js";
export type { ChangeEvent, ClientEvents, ReconnectedEvent, ReconnectEvent, WatchEvent } from "./events.js";
export type { ConfigSource } from "./state.js";

const NO_FALLBACK: unique symbol = Symbol("no fallback");

/**
 * A client of one environment. `createClient` makes one and waits for `ready()`; the class is exported
 * for callers (the agent) that want to attach listeners before the first load.
 */
export class StrataClient<T extends object = Record<string, unknown>> {
  private readonly settings: Settings;
  private readonly lifetime = new Lifetime();
  private readonly emitter = new Emitter();
  private readonly state: AcceptedState;
  private readonly follower: Follower;
  /** Every dotted path of the configuration in use to its frozen value: `get` is one lookup, on this object. */
  private index: ReadonlyMap<string, unknown> = new Map();
  private readyPromise: Promise<void> | null = null;
  private loop: Promise<void> | null = null;

  constructor(options: ClientOptions) {
    this.settings = resolveSettings(options);
    let follower: Follower | null = null;
    this.state = new AcceptedState(this.settings, this.lifetime, this.emitter, {
      seen: (version) => follower?.raiseLastEventId(version),
      installed: (tree) => (this.index = tree.index),
    });
    const connection = new Connection(this.settings, this.lifetime, this.state);
    follower = this.follower = new Follower(this.settings, this.lifetime, connection, this.state, this.emitter);
  }

  // ---- the read API (no I/O, no allocation) ---------------------------------------------------------

  /** The value at a dotted path; throws `unknown-key` when the configuration has no such path. */
  get<K extends KeyPath<T>>(key: K): ValueAt<T, K>;
  /** The value at a dotted path, or `fallback` when the configuration has no such path. */
  get<K extends KeyPath<T>, F>(key: K, fallback: F): ValueAt<T, K> | F;
  get(key: string, fallback: unknown = NO_FALLBACK): unknown {
    const v = this.index.get(key);
    if (v !== undefined) return v;
    if (fallback !== NO_FALLBACK) return fallback;
    return this.unknownKey(key);
  }

  private unknownKey(key: string): never {
    if (this.state.current === null)
      throw new StrataClientError("unknown-key", `no configuration loaded yet: await ready() before get("${key}")`);
    const service = this.state.current.snapshot.service;
    const namespace = key.split(".")[0]!;
    // A service receives only the namespaces it declares: say so, rather than "no such key".
    if (service !== undefined && !Object.hasOwn(this.state.current.tree.root, namespace))
      throw new StrataClientError(
        "unknown-key",
        `unknown key "${key}" in ${this.settings.environment}/${service} v${this.state.version}: namespace "${namespace}" is not one of service ${service}'s (${Object.keys(this.state.current.tree.root).sort().join(", ")}); a service receives only the namespaces strata.yaml declares for it (services.${service}.namespaces)`,
      );
    throw new StrataClientError(
      "unknown-key",
      `unknown key "${key}" in ${this.settings.environment} v${this.state.version}`,
    );
  }

  /**
   * True when the value at a dotted path is sensitive (it came from the snapshot's encrypted `secrets`) or
   * holds one (`database` when `database.password` is a secret): what must never be logged or handed on.
   */
  isSensitive(key: string): boolean {
    return this.state.current?.tree.sensitive.has(key) ?? false;
  }

  /** The whole effective configuration, deeply frozen. */
  getAll(): DeepReadonly<T> {
    return (this.state.current?.tree.root ?? Object.freeze({})) as DeepReadonly<T>;
  }

  /** The version in use (0 before the first). */
  get version(): number {
    return this.state.version;
  }

  /** The accepted snapshot's metadata (never its secrets). */
  get snapshot(): Readonly<SnapshotMetadata> | null {
    const current = this.state.current;
    return current === null ? null : { ...current.snapshot };
  }

  /**
   * Where the configuration in use came from: `endpoint`, or `cache` when the client started from its cache
   * file and the endpoint has not confirmed or replaced it since (null before the first).
   */
  get source(): ConfigSource | null {
    return this.state.source;
  }

  /** True once the snapshot in use is past its `expiresAt` (the endpoint stopped refreshing it). */
  isStale(): boolean {
    return this.state.isStale();
  }

  /** The last snapshot refused and why, as reported to the endpoint. */
  get lastRejected(): { version: number; reason: RejectionCode } | null {
    return this.state.rejected;
  }

  on<E extends keyof ClientEvents>(event: E, listener: Listener<E>): () => void {
    return this.emitter.on(event, listener);
  }

  /**
   * Calls `cb` once per changed leaf whose key matches `pattern` (`*` one segment, `**` any number, as in
   * `strata log`). Returns the unsubscribe function.
   */
  watch(pattern: string, cb: (event: WatchEvent) => void): () => void {
    return this.emitter.watch(pattern, cb);
  }

  // ---- start and stop -------------------------------------------------------------------------------------

  /**
   * Resolves once a verified snapshot is in use: the endpoint's current one, or the cache file's when the
   * endpoint cannot be reached within `timeoutMs`. Rejects (and closes the client) when neither works.
   */
  ready(): Promise<void> {
    this.readyPromise ??= this.start().catch(async (e: unknown) => {
      await this.close();
      throw e;
    });
    return this.readyPromise;
  }

  private async start(): Promise<void> {
    await this.state.open();
    const initial = await this.follower.fetchInitial(Date.now() + this.settings.timeoutMs);
    if (this.lifetime.closed) throw new StrataClientError("closed", "the client was closed before it was ready");
    try {
      await this.state.adopt(initial);
    } catch (e) {
      // A first load refused: the endpoint hears it (its fleet status) before ready() rejects.
      if (isRejection(e)) await this.follower.report();
      throw e;
    }
    this.loop = this.follower.run(initial.text === null && initial.refused === undefined);
  }

  /** Ends every timer, request and stream; resolves once the cache file write in flight is done. */
  async close(): Promise<void> {
    if (this.lifetime.closed) return;
    this.lifetime.close();
    await this.loop?.catch(() => undefined);
    await this.state.flush();
  }
}

/**
 * Creates a client and waits until it serves a verified snapshot (see {@link StrataClient.ready}).
 * `T` types `get` and `getAll`: pass the `StrataConfig` that `strata typegen` writes.
 */
export async function createClient<T extends object = Record<string, unknown>>(
  options: ClientOptions,
): Promise<StrataClient<T>> {
  const client = new StrataClient<T>(options);
  await client.ready();
  return client;
}
