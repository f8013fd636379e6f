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
import { Reporter, type ReportInput, type ReportStats } from "./reporter.js";
import { AcceptedState, type ConfigSource, type RefusedPlan, type RolloutInfo } from "./state.js";
import type { DeepReadonly, KeyPath, ValueAt } from "./types.js";

export type { ClientOptions } from "./options.js";
export type { ChangeEvent, ClientEvents, ReconnectedEvent, ReconnectEvent, WatchEvent } from "./events.js";
export type { ConfigSource, RefusedPlan, RolloutInfo } from "./state.js";
export type { ReportInput, ReportStats } from "./reporter.js";

/** `get(key, { entity })`: the value for a request about `entity` (a user, an account) during a rollout. */
export interface GetOptions<F = never> {
  entity: string;
  /** Returned when the configuration has no such path (else `get` throws `unknown-key`). */
  fallback?: F;
}

function isGetOptions(v: unknown): v is GetOptions<unknown> {
  if (typeof v !== "object" || v === null || typeof (v as { entity?: unknown }).entity !== "string") return false;
  for (const k in v) if (k !== "entity" && k !== "fallback") return false;
  return true;
}

/** A Prometheus label value: backslash, double quote and line feed escaped. */
function labelValue(v: string): string {
  return v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n");
}

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
  private readonly reporter: Reporter;
  /** Every dotted path of the configuration in use to its frozen value: `get` is one lookup, on this object. */
  private index: ReadonlyMap<string, unknown> = new Map();
  private readyPromise: Promise<void> | null = null;
  private loop: Promise<void> | null = null;

  constructor(options: ClientOptions) {
    this.settings = resolveSettings(options);
    let follower: Follower | null = null;
    this.state = new AcceptedState(this.settings, this.lifetime, this.emitter, {
      seen: (version) => follower?.raiseLastEventId(version),
      installed: (tree, version) => {
        this.index = tree.index;
        this.reporter.running(version);
      },
      fetchVersion: (version) => follower!.versionText(version),
    });
    const connection = new Connection(this.settings, this.lifetime, this.state);
    follower = this.follower = new Follower(this.settings, this.lifetime, connection, this.state, this.emitter);
    this.reporter = new Reporter(
      this.settings,
      this.lifetime,
      connection,
      () => this.state.version,
      () =>
        this.state.isStale()
          ? "expired"
          : this.follower.disconnected || this.state.source === "cache"
            ? "disconnected"
            : null,
    );
    // The client's own refusals go out with its health reports (what the rollout status shows per cohort).
    this.emitter.on("error", (e) => {
      if (isRejection(e)) this.reporter.refused("snapshot", e.code);
      else if (e.code === "plan-refused" && e.refusal !== null) this.reporter.refused("plan", e.refusal);
    });
  }

  // ---- the read API (no I/O, no allocation) ---------------------------------------------------------

  /** The value at a dotted path; throws `unknown-key` when the configuration has no such path. */
  get<K extends KeyPath<T>>(key: K): ValueAt<T, K>;
  /**
   * The value at a dotted path for a request about `entity`: during a rollout, the version the plan gives that
   * entity (its own cohort position, apart from this process's), else the version in use.
   */
  get<K extends KeyPath<T>, F = never>(key: K, options: GetOptions<F>): ValueAt<T, K> | F;
  /** The value at a dotted path, or `fallback` when the configuration has no such path. */
  get<K extends KeyPath<T>, F>(key: K, fallback: F): ValueAt<T, K> | F;
  get(key: string, second: unknown = NO_FALLBACK): unknown {
    if (second === NO_FALLBACK) {
      const v = this.index.get(key);
      return v !== undefined ? v : this.unknownKey(key);
    }
    if (typeof second === "object" && isGetOptions(second)) {
      const v = this.state.treeFor(second.entity)?.index.get(key);
      if (v !== undefined) return v;
      return "fallback" in second ? second.fallback : this.unknownKey(key);
    }
    const v = this.index.get(key);
    return v !== undefined ? v : second;
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
   * With `{ entity }`, of the version `get(key, { entity })` reads.
   */
  isSensitive(key: string, options?: { entity: string }): boolean {
    const tree = options === undefined ? this.state.current?.tree : this.state.treeFor(options.entity);
    return tree?.sensitive.has(key) ?? false;
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

  /**
   * The rollout this client follows and where it stands: null when no verified plan covers the version in
   * use (no rollout, no rollout keys, or a newer version published since). With `{ entity }`, where a request
   * about that entity stands: its cohort, and in `running` the version `get(key, { entity })` reads.
   */
  rollout(options?: { entity: string }): RolloutInfo | null {
    return this.state.rollout(options?.entity);
  }

  /** The last rollout plan refused and why (also an `error` event with code `plan-refused`). */
  get lastRefusedPlan(): RefusedPlan | null {
    return this.state.refusedPlan;
  }

  // ---- health reports and the version for metrics ----------------------------------------------------------

  /**
   * Counts requests the service served with the version in use (default one request, no error), and one
   * latency sample: added to a few numbers, sent in a batch every `reportIntervalMs` for the rollout's gates.
   * Never blocks, never throws for the endpoint's sake (only for numbers that cannot be counts).
   */
  report(input: ReportInput = {}): void {
    this.reporter.add(input);
  }

  /** What the health reports did so far: batches sent and dropped, reports refused, versions pending. */
  reportStats(): ReportStats {
    return this.reporter.stats();
  }

  /** The label that splits the service's own metrics by configuration version: `{ strata_config_version: "7" }`. */
  metricLabels(): { strata_config_version: string } {
    return { strata_config_version: String(this.state.version) };
  }

  /**
   * OpenTelemetry attributes of the version in use (`strata.config.version`), for a meter's or tracer's
   * attributes; a Prometheus exporter turns it into the `strata_config_version` label the gates select.
   */
  resourceAttributes(): Record<string, string> {
    return {
      "strata.config.version": String(this.state.version),
      "strata.config.environment": this.settings.environment,
      "service.instance.id": this.settings.instance,
    };
  }

  /** `strata_config_version` in the Prometheus text format, to append to the service's /metrics. */
  metricsText(): string {
    const labels = `environment="${labelValue(this.settings.environment)}",service="${labelValue(this.settings.service)}"`;
    return (
      "# HELP strata_config_version The configuration version this process runs.\n" +
      "# TYPE strata_config_version gauge\n" +
      `strata_config_version{${labels}} ${this.state.version}\n`
    );
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

  /**
   * Ends every timer, request and stream (the health reports not yet sent are dropped; a version change not yet
   * told to the endpoint is told first, within a second); resolves once the cache file write in flight is done.
   */
  async close(): Promise<void> {
    if (this.lifetime.closed) return;
    await this.follower.confirmBeforeClose();
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
