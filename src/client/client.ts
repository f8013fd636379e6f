/**
 * The runtime client: loads the environment's current snapshot, verifies it, serves it from memory and
 * follows the endpoint (server-sent events, or long-polling where a proxy refuses or cuts them), swapping
 * in each newer snapshot only after it passed every check. docs/runtime.md describes the rules.
 */
import { readFile } from "node:fs/promises";
import { hostname } from "node:os";
import { createGlobMatcher } from "../core/glob.js";
import type { PublicKey } from "../core/snapshot/keys.js";
import type { Snapshot } from "../core/snapshot/snapshot.js";
import { readCacheFile, writeFileAtomic } from "./cache.js";
import { isRejection, StrataClientError, type RejectionCode } from "./errors.js";
import { parseAgeIdentities } from "./identity.js";
import { buildTree, diffTrees, mergeSecrets, type ConfigTree, type LeafChange } from "./tree.js";
import type { DeepReadonly, KeyPath, ValueAt } from "./types.js";
import { parseTrustedKeyList, verifySnapshotText } from "./verify.js";

export interface ClientOptions {
  /** The endpoint's base URL (`https://config.example.com`). */
  endpoint: string;
  environment: string;
  /** Bearer token with `read:<environment>`; default `STRATA_TOKEN`. */
  token?: string;
  /** Names this service in the endpoint's fleet status. */
  service: string;
  /** Default: `<hostname>-<pid>`. */
  instance?: string;
  /** `ed25519:<base64>` public keys; a snapshot needs a signature by one of them. */
  trustedKeys: readonly string[];
  /** age identity text (`AGE-SECRET-KEY-…` lines); default `SOPS_AGE_KEY`, then the file `SOPS_AGE_KEY_FILE`. */
  identity?: string;
  /** Last-known-good copy of the accepted snapshot (written atomically, mode 0600, secrets encrypted). */
  cacheFile?: string;
  /** How long `ready()` tries the endpoint before falling back to the cache (default 10 000 ms). */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  /** Reconnect delays: full jitter, uniformly in [0, min(capMs, baseMs·2^attempt)). Default 500 ms / 30 s. */
  backoff?: { baseMs?: number; capMs?: number };
  /** `auto` (default): events, falling back to long-polling when they are refused or cut. */
  transport?: "auto" | "events" | "long-poll";
  /** Seconds a long-poll waits at the endpoint (default 30, at most 60). */
  waitSeconds?: number;
  /** Reported in the `Strata-Client` header: `sdk` (default) or `agent`. */
  kind?: "sdk" | "agent";
  /** Where the identity and token defaults are read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
}

export interface ChangeEvent {
  version: number;
  previousVersion: number;
  changes: readonly LeafChange[];
}

export interface WatchEvent {
  key: string;
  before: unknown;
  after: unknown;
  version: number;
}

export interface ReconnectEvent {
  attempt: number;
  delayMs: number;
  transport: "events" | "long-poll";
  reason: string;
}

export interface ClientEvents {
  change: ChangeEvent;
  error: StrataClientError;
  stale: { version: number; expiresAt: string };
  reconnect: ReconnectEvent;
}

type Listener<E extends keyof ClientEvents> = (event: ClientEvents[E]) => void;

interface Accepted {
  snapshot: Snapshot;
  text: string;
  tree: ConfigTree;
}

const NO_FALLBACK: unique symbol = Symbol("no fallback");
const MAX_TIMER_MS = 2_147_000_000;
/** The endpoint sends a keep-alive every 15 s: a stream silent for longer than this is dead. */
const STREAM_IDLE_MS = 45_000;

function sanitizeHeaderField(s: string): string {
  // eslint-disable-next-line no-control-regex
  return s.replace(/[\u0000-\u001f\u007f-\u009f;=,]/g, "_").slice(0, 128) || "-";
}

function describeFailure(e: unknown): string {
  if (e instanceof StrataClientError) return e.message;
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === "AbortError" || err.name === "TimeoutError") return "timed out";
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message} (${cause})` : err.message;
}

/**
 * A client of one environment. `createClient` makes one and waits for `ready()`; the class is exported
 * for callers (the agent) that want to attach listeners before the first load.
 */
export class StrataClient<T extends object = Record<string, unknown>> {
  private readonly endpoint: string;
  private readonly environment: string;
  private readonly trusted: PublicKey[];
  private readonly fetchFn: typeof globalThis.fetch;
  private readonly token: string | undefined;
  private readonly service: string;
  private readonly instance: string;
  private readonly kind: "sdk" | "agent";
  private readonly timeoutMs: number;
  private readonly baseMs: number;
  private readonly capMs: number;
  private readonly waitSeconds: number;
  private readonly env: NodeJS.ProcessEnv;
  private readonly cacheFile: string | null;
  private readonly identityText: string | undefined;
  private transport: "events" | "long-poll";
  private readonly fixedTransport: boolean;

  private current: Accepted | null = null;
  private index: ReadonlyMap<string, unknown> = new Map();
  private identities: string[] | null = null;
  /** The highest accepted version this process or its cache file has seen: nothing at or below it is taken. */
  private floor = 0;
  /** The highest event id received, for Last-Event-ID (rejected versions included: never fetched twice). */
  private lastEventId = 0;
  private lastRejection: { version: number; reason: RejectionCode } | null = null;
  private readonly listeners = new Map<keyof ClientEvents, Set<(e: never) => void>>();
  private readonly watchers = new Set<{ match: (key: string) => boolean; cb: (e: WatchEvent) => void }>();
  private closed = false;
  private readonly controller = new AbortController();
  private readonly timers = new Set<NodeJS.Timeout>();
  private staleTimer: NodeJS.Timeout | null = null;
  private staleReported = false;
  private cacheWrite: Promise<void> = Promise.resolve();
  private readyPromise: Promise<void> | null = null;
  private loop: Promise<void> | null = null;
  private header = "";

  constructor(options: ClientOptions) {
    if (!options.endpoint) throw new StrataClientError("invalid-argument", "endpoint is required");
    if (!options.environment) throw new StrataClientError("invalid-argument", "environment is required");
    if (!options.service)
      throw new StrataClientError(
        "invalid-argument",
        "service is required (it names this service in the endpoint's fleet status)",
      );
    this.endpoint = options.endpoint.replace(/\/+$/, "");
    this.environment = options.environment;
    this.trusted = parseTrustedKeyList(options.trustedKeys ?? []);
    this.env = options.env ?? process.env;
    this.fetchFn = options.fetch ?? globalThis.fetch;
    this.token = options.token ?? this.env.STRATA_TOKEN;
    this.service = sanitizeHeaderField(options.service);
    this.instance = sanitizeHeaderField(options.instance ?? `${hostname()}-${process.pid}`);
    this.kind = options.kind ?? "sdk";
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.baseMs = Math.max(1, options.backoff?.baseMs ?? 500);
    this.capMs = Math.max(this.baseMs, options.backoff?.capMs ?? 30_000);
    this.waitSeconds = Math.min(60, Math.max(1, options.waitSeconds ?? 30));
    this.cacheFile = options.cacheFile ?? null;
    this.identityText = options.identity;
    this.transport = options.transport === "long-poll" ? "long-poll" : "events";
    this.fixedTransport = options.transport !== undefined && options.transport !== "auto";
    this.updateHeader();
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
    if (this.current === null)
      throw new StrataClientError("unknown-key", `no configuration loaded yet: await ready() before get("${key}")`);
    throw new StrataClientError(
      "unknown-key",
      `unknown key "${key}" in ${this.environment} v${this.current.snapshot.version}`,
    );
  }

  /** The whole effective configuration, deeply frozen. */
  getAll(): DeepReadonly<T> {
    return (this.current?.tree.root ?? Object.freeze({})) as DeepReadonly<T>;
  }

  /** The version in use (0 before the first). */
  get version(): number {
    return this.current?.snapshot.version ?? 0;
  }

  /** The accepted snapshot's metadata (never its secrets). */
  get snapshot(): Readonly<Omit<Snapshot, "config" | "secrets">> | null {
    if (this.current === null) return null;
    const { config: _c, secrets: _s, ...meta } = this.current.snapshot;
    return meta;
  }

  /** The verified snapshot text as received (secrets encrypted): what the cache file holds. */
  get snapshotText(): string | null {
    return this.current?.text ?? null;
  }

  /** True once the snapshot in use is past its `expiresAt` (the endpoint stopped refreshing it). */
  isStale(): boolean {
    return this.current !== null && Date.now() >= Date.parse(this.current.snapshot.expiresAt);
  }

  /** The last snapshot refused and why, as reported to the endpoint. */
  get lastRejected(): { version: number; reason: RejectionCode } | null {
    return this.lastRejection;
  }

  on<E extends keyof ClientEvents>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) this.listeners.set(event, (set = new Set()));
    set.add(listener as (e: never) => void);
    return () => void set.delete(listener as (e: never) => void);
  }

  /**
   * Calls `cb` once per changed leaf whose key matches `pattern` (`*` one segment, `**` any number, as in
   * `strata log`). Returns the unsubscribe function.
   */
  watch(pattern: string, cb: (event: WatchEvent) => void): () => void {
    const w = { match: createGlobMatcher(pattern), cb };
    this.watchers.add(w);
    return () => void this.watchers.delete(w);
  }

  private emit<E extends keyof ClientEvents>(event: E, payload: ClientEvents[E]): void {
    for (const l of [...(this.listeners.get(event) ?? [])]) {
      try {
        (l as Listener<E>)(payload);
      } catch {
        // A listener's failure is the listener's: the client keeps running.
      }
    }
  }

  // ---- start ------------------------------------------------------------------------------------------

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
    this.identities = await this.loadIdentities();
    const cached = await this.loadCache();
    if (cached !== null) this.floor = cached.snapshot.version;
    const deadline = Date.now() + this.timeoutMs;
    const initial = await this.fetchInitial(deadline);
    if (this.closed) throw new StrataClientError("closed", "the client was closed before it was ready");
    if (initial.text !== null) {
      try {
        const candidate = await this.prepare(initial.text, cached === null ? null : cached);
        if (candidate === "same") this.install(cached!, false);
        else this.install(candidate, true);
      } catch (e) {
        if (!isRejection(e)) throw e;
        this.reject(e);
        if (cached === null) throw e;
        this.install(cached, false);
      }
    } else if (cached !== null) {
      this.install(cached, false);
    } else {
      const cacheNote =
        this.cacheFile === null
          ? "no cacheFile is configured"
          : `the cache file ${this.cacheFile} ${this.cacheProblem ?? "does not exist"}`;
      throw new StrataClientError(
        "unreachable",
        `cannot load ${this.environment}: ${this.endpoint} did not answer within ${this.timeoutMs} ms (${initial.tried}) and ${cacheNote}`,
      );
    }
    this.loop = this.run(initial.text === null);
  }

  private cacheProblem: string | null = null;

  private async loadIdentities(): Promise<string[]> {
    if (this.identityText !== undefined) return parseAgeIdentities(this.identityText);
    if (this.env.SOPS_AGE_KEY) return parseAgeIdentities(this.env.SOPS_AGE_KEY);
    if (this.env.SOPS_AGE_KEY_FILE) {
      try {
        return parseAgeIdentities(await readFile(this.env.SOPS_AGE_KEY_FILE, "utf8"));
      } catch (cause) {
        throw new StrataClientError(
          "invalid-argument",
          `cannot read SOPS_AGE_KEY_FILE ${this.env.SOPS_AGE_KEY_FILE}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`,
          { cause },
        );
      }
    }
    return [];
  }

  private async loadCache(): Promise<Accepted | null> {
    if (this.cacheFile === null) return null;
    let text: string | null;
    try {
      text = await readCacheFile(this.cacheFile);
    } catch (cause) {
      this.cacheProblem = `cannot be read (${(cause as NodeJS.ErrnoException).code ?? "error"})`;
      return null;
    }
    if (text === null) return null;
    try {
      const accepted = await this.prepare(text, null, "the cache file");
      return accepted === "same" ? null : accepted;
    } catch (e) {
      if (!isRejection(e)) throw e;
      this.cacheProblem = `was rejected (${e.code})`;
      this.emit("error", e);
      return null;
    }
  }

  /** Tries GET …/snapshot until it answers or the deadline passes, with backoff between attempts. */
  private async fetchInitial(deadline: number): Promise<{ text: string | null; tried: string }> {
    let attempt = 0;
    let last = "";
    while (!this.closed) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      try {
        const res = await this.request(this.url("snapshot"), {}, remaining);
        if (res.status === 200) return { text: await res.text(), tried: "" };
        last = await this.describeResponse(res);
        if (res.status === 401 || res.status === 403)
          throw new StrataClientError(
            res.status === 401 ? "unauthenticated" : "access-denied",
            `GET ${this.url("snapshot")}: ${last}`,
          );
      } catch (e) {
        if (e instanceof StrataClientError) throw e;
        last = describeFailure(e);
      }
      const delay = Math.min(this.jitter(attempt++), deadline - Date.now());
      if (delay > 0) await this.sleep(delay);
    }
    return { text: null, tried: `GET ${this.url("snapshot")}: ${last || "no attempt"}` };
  }

  // ---- verification and the swap ------------------------------------------------------------------------

  /**
   * Verifies a snapshot text and builds its tree, or throws the rejection. `against` is what it must beat:
   * returns "same" when `text` is that very snapshot again.
   */
  private async prepare(text: string, against: Accepted | null, origin = "the endpoint"): Promise<Accepted | "same"> {
    const snapshot = verifySnapshotText(text, this.environment, this.trusted);
    const best = Math.max(this.floor, this.current?.snapshot.version ?? 0, against?.snapshot.version ?? 0);
    const sameAs = this.current ?? against;
    if (sameAs !== null && snapshot.version === sameAs.snapshot.version && snapshot.digest === sameAs.snapshot.digest)
      return "same";
    if (snapshot.version <= best && best > 0) {
      throw new StrataClientError(
        "version-regression",
        `snapshot v${snapshot.version} from ${origin} is not newer than v${best}, the newest already seen: a replay or a frozen endpoint`,
        { version: snapshot.version },
      );
    }
    let secrets = null;
    if (snapshot.secrets !== null) {
      // The SOPS engine loads with the first snapshot that has secrets: services without any skip its cost.
      const { openSnapshotSecrets } = await import("./secrets.js");
      secrets = await openSnapshotSecrets(snapshot.secrets, this.identities ?? [], snapshot.version);
    }
    return { snapshot, text, tree: buildTree(mergeSecrets(snapshot.config as never, secrets)) };
  }

  private install(next: Accepted, persist: boolean): void {
    const previous = this.current;
    this.current = next;
    this.index = next.tree.index;
    this.floor = Math.max(this.floor, next.snapshot.version);
    this.lastEventId = Math.max(this.lastEventId, next.snapshot.version);
    this.updateHeader();
    this.armStaleness();
    if (persist && this.cacheFile !== null) {
      const file = this.cacheFile;
      this.cacheWrite = this.cacheWrite
        .then(() => writeFileAtomic(file, next.text))
        .catch((cause: unknown) => {
          this.emit(
            "error",
            new StrataClientError(
              "invalid-argument",
              `cannot write the cache file ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`,
              { cause },
            ),
          );
        });
    }
    if (previous === null) return;
    const changes = diffTrees(previous.tree, next.tree);
    const version = next.snapshot.version;
    this.emit("change", { version, previousVersion: previous.snapshot.version, changes });
    if (this.watchers.size === 0) return;
    for (const c of changes) {
      for (const w of [...this.watchers]) {
        if (!w.match(c.key)) continue;
        try {
          w.cb({ key: c.key, before: c.before, after: c.after, version });
        } catch {
          // A watcher's failure is the watcher's.
        }
      }
    }
  }

  private reject(e: StrataClientError & { code: RejectionCode }): void {
    if (e.version !== null) {
      this.lastRejection = { version: e.version, reason: e.code };
      this.lastEventId = Math.max(this.lastEventId, e.version);
    }
    this.updateHeader();
    this.emit("error", e);
  }

  /** Takes a snapshot text from the endpoint: verified and swapped in, or rejected with an `error` event. */
  private async consider(text: string): Promise<void> {
    try {
      const next = await this.prepare(text, null);
      if (next !== "same" && !this.closed) this.install(next, true);
    } catch (e) {
      if (!isRejection(e)) throw e;
      this.reject(e);
    }
  }

  private armStaleness(): void {
    if (this.staleTimer !== null) {
      clearTimeout(this.staleTimer);
      this.timers.delete(this.staleTimer);
      this.staleTimer = null;
    }
    const current = this.current;
    if (current === null || this.closed) return;
    this.staleReported = false;
    const at = Date.parse(current.snapshot.expiresAt);
    const check = (): void => {
      this.staleTimer = null;
      if (this.current !== current || this.closed) return;
      const left = at - Date.now();
      if (left > 0) {
        this.staleTimer = this.timer(check, Math.min(left, MAX_TIMER_MS));
        return;
      }
      if (!this.staleReported) {
        this.staleReported = true;
        this.emit("stale", { version: current.snapshot.version, expiresAt: current.snapshot.expiresAt });
      }
    };
    // Reported from a timer even when already stale, so that listeners attached after ready() hear it.
    this.staleTimer = this.timer(check, Math.max(0, Math.min(at - Date.now(), MAX_TIMER_MS)));
  }

  // ---- following the endpoint -------------------------------------------------------------------------

  private async run(startedOffline: boolean): Promise<void> {
    let attempt = startedOffline ? 1 : 0;
    let quietCuts = 0;
    let reason = startedOffline ? "the endpoint was unreachable at start" : "";
    if (startedOffline) await this.backoff(0, reason);
    while (!this.closed) {
      let healthy = false;
      try {
        if (attempt > 0) await this.catchUp();
        if (this.transport === "events") {
          const outcome = await this.streamEvents();
          if (outcome === "unsupported") {
            if (!this.fixedTransport) this.transport = "long-poll";
            healthy = !this.fixedTransport;
            reason = "the endpoint refused the event stream";
          } else {
            healthy = outcome === "delivered";
            quietCuts = outcome === "silent" ? quietCuts + 1 : 0;
            reason = "the event stream ended";
            // A proxy that buffers or cuts streams: switch to long-polling rather than reconnect forever.
            if (quietCuts >= 3 && !this.fixedTransport) this.transport = "long-poll";
          }
        } else {
          await this.longPoll();
          healthy = true;
        }
      } catch (e) {
        if (this.closed) break;
        reason = describeFailure(e);
        if (e instanceof StrataClientError && !isRejection(e)) this.emit("error", e);
      }
      if (this.closed) break;
      if (healthy) {
        attempt = 0;
        if (this.transport === "long-poll") continue;
      }
      await this.backoff(attempt++, reason);
    }
  }

  private async backoff(attempt: number, reason: string): Promise<void> {
    const delayMs = this.jitter(attempt);
    this.emit("reconnect", { attempt: attempt + 1, delayMs: Math.round(delayMs), transport: this.transport, reason });
    await this.sleep(delayMs);
  }

  /** Full jitter: uniform in [0, min(cap, base·2^attempt)), so a fleet reconnecting together spreads out. */
  private jitter(attempt: number): number {
    return Math.random() * Math.min(this.capMs, this.baseMs * 2 ** Math.min(attempt, 30));
  }

  /** After a disconnect: the current snapshot, if it is not ours (also catches an endpoint that went back). */
  private async catchUp(): Promise<void> {
    const res = await this.request(this.url("snapshot"), { "if-none-match": `"${this.version}"` }, this.timeoutMs);
    if (res.status === 304) return;
    if (res.status !== 200)
      throw new StrataClientError(
        this.statusCode(res.status),
        `GET ${this.url("snapshot")}: ${await this.describeResponse(res)}`,
      );
    await this.consider(await res.text());
  }

  private async longPoll(): Promise<void> {
    const url = `${this.url("snapshot")}?wait=${this.waitSeconds}`;
    const res = await this.request(url, { "if-none-match": `"${this.version}"` }, (this.waitSeconds + 15) * 1000);
    if (res.status === 304) return;
    if (res.status !== 200)
      throw new StrataClientError(this.statusCode(res.status), `GET ${url}: ${await this.describeResponse(res)}`);
    await this.consider(await res.text());
  }

  /**
   * One event-stream connection, until it ends. "delivered": it carried data; "silent": it ended without
   * a byte of data (a buffering proxy); "unsupported": the endpoint answered with something else.
   */
  private async streamEvents(): Promise<"delivered" | "silent" | "unsupported"> {
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    this.controller.signal.addEventListener("abort", abort);
    let idle: NodeJS.Timeout | null = null;
    const resetIdle = (): void => {
      if (idle !== null) {
        clearTimeout(idle);
        this.timers.delete(idle);
      }
      idle = this.timer(abort, STREAM_IDLE_MS);
    };
    try {
      resetIdle();
      const res = await this.fetchFn(this.url("events"), {
        headers: { ...this.headers(), accept: "text/event-stream", "last-event-id": String(this.lastEventId) },
        signal: controller.signal,
      });
      if (res.status === 401 || res.status === 403)
        throw new StrataClientError(
          this.statusCode(res.status),
          `GET ${this.url("events")}: ${await this.describeResponse(res)}`,
        );
      if (
        res.status !== 200 ||
        !(res.headers.get("content-type") ?? "").startsWith("text/event-stream") ||
        res.body === null
      ) {
        await res.body?.cancel().catch(() => undefined);
        return res.status >= 500 ? "silent" : "unsupported";
      }
      let delivered = false;
      let buffer = "";
      const decoder = new TextDecoder();
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done || this.closed) break;
          resetIdle();
          buffer += decoder.decode(value, { stream: true });
          let newest = 0;
          let end: number;
          while ((end = buffer.search(/\r?\n\r?\n/)) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + (buffer[end] === "\r" ? 4 : 2));
            delivered = true;
            const id = this.parseEventBlock(block);
            if (id > newest) newest = id;
          }
          // Several events in one read (a replay after reconnecting): only the newest needs fetching.
          if (newest > this.lastEventId) {
            let before = this.version;
            await this.fetchVersion(newest);
            // Tell the endpoint which version runs now (fleet status reads it from a snapshot request's
            // Strata-Client header): a conditional GET, 304 unless something newer arrived meanwhile.
            while (this.version !== before && !this.closed) {
              before = this.version;
              await this.catchUp();
            }
          }
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
      return delivered ? "delivered" : "silent";
    } finally {
      if (idle !== null) {
        clearTimeout(idle);
        this.timers.delete(idle);
      }
      this.controller.signal.removeEventListener("abort", abort);
    }
  }

  /** The version a `snapshot` event announces (0 for comments, keep-alives and other events). */
  private parseEventBlock(block: string): number {
    let event = "message";
    let id = "";
    for (const line of block.split(/\r?\n/)) {
      if (line.startsWith("event:")) event = line.slice(6).trim();
      else if (line.startsWith("id:")) id = line.slice(3).trim();
    }
    if (event !== "snapshot" || !/^\d{1,15}$/.test(id)) return 0;
    return Number(id);
  }

  private async fetchVersion(version: number): Promise<void> {
    const url = this.url(`snapshots/${version}`);
    const res = await this.request(url, {}, this.timeoutMs);
    if (res.status !== 200)
      throw new StrataClientError(this.statusCode(res.status), `GET ${url}: ${await this.describeResponse(res)}`);
    const text = await res.text();
    this.lastEventId = Math.max(this.lastEventId, version);
    await this.consider(text);
  }

  // ---- HTTP ---------------------------------------------------------------------------------------------

  private url(path: string): string {
    return `${this.endpoint}/v1/environments/${encodeURIComponent(this.environment)}/${path}`;
  }

  private updateHeader(): void {
    let h = `service=${this.service}; instance=${this.instance}; version=${this.version}; kind=${this.kind}`;
    if (this.lastRejection !== null)
      h += `; rejected=${this.lastRejection.version}; reason=${this.lastRejection.reason}`;
    this.header = h;
  }

  /** The `Strata-Client` header this client sends now. */
  get clientHeader(): string {
    return this.header;
  }

  private headers(): Record<string, string> {
    const h: Record<string, string> = { "strata-client": this.header };
    if (this.token) h.authorization = `Bearer ${this.token}`;
    return h;
  }

  private async request(url: string, extra: Record<string, string>, timeoutMs: number): Promise<Response> {
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    this.controller.signal.addEventListener("abort", abort);
    const timer = this.timer(abort, Math.max(1, timeoutMs));
    try {
      const res = await this.fetchFn(url, { headers: { ...this.headers(), ...extra }, signal: controller.signal });
      // The body is read by the caller within the same deadline: buffer it before the timer goes.
      const body = await res.arrayBuffer();
      return new Response(res.status === 304 ? null : body, { status: res.status, headers: res.headers });
    } finally {
      clearTimeout(timer);
      this.timers.delete(timer);
      this.controller.signal.removeEventListener("abort", abort);
    }
  }

  private statusCode(status: number): "unauthenticated" | "access-denied" | "unreachable" {
    return status === 401 ? "unauthenticated" : status === 403 ? "access-denied" : "unreachable";
  }

  private async describeResponse(res: Response): Promise<string> {
    try {
      const body = (await res.json()) as { error?: { code?: string; message?: string } };
      if (body.error?.code) return `${res.status} ${body.error.code}: ${body.error.message ?? ""}`.trim();
    } catch {
      // Not the endpoint's JSON error: the status says enough.
    }
    return `HTTP ${res.status}`;
  }

  private timer(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
    return t;
  }

  private sleep(ms: number): Promise<void> {
    if (this.closed) return Promise.resolve();
    return new Promise((resolve) => {
      const t = this.timer(() => {
        this.controller.signal.removeEventListener("abort", done);
        resolve();
      }, ms);
      const done = (): void => {
        clearTimeout(t);
        this.timers.delete(t);
        resolve();
      };
      this.controller.signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Ends every timer, request and stream; resolves once the cache file write in flight is done. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.controller.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.staleTimer = null;
    await this.loop?.catch(() => undefined);
    await this.cacheWrite;
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
