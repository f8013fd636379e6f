/**
 * The accepted state: the snapshot in use and the rules for replacing it. A snapshot, from the endpoint or
 * the cache file, is verified (verify.ts), must be newer than anything this process or its cache file has
 * seen, and has its secrets opened before it is swapped in whole; a refused one leaves the current one in
 * place and is reported (an `error` event, the `Strata-Client` header). Each accepted snapshot is written to
 * the cache file exactly as received. Freshness (`expiresAt`) is watched here too: a snapshot already past
 * it is refused (`expired`) unless `allowExpired`; the one in use that expires stays, reported stale.
 */
import { readFile } from "node:fs/promises";
import {
  formatClientHeader,
  type RejectionCode,
  type Snapshot,
  type SnapshotMetadata,
} from "../core/protocol/index.js";
import { readCacheFile, writeCacheFile } from "./cache.js";
import { isRejection, StrataClientError } from "./errors.js";
import type { Emitter } from "./events.js";
import { parseAgeIdentities } from "./identity.js";
import type { Lifetime } from "./lifetime.js";
import type { Settings } from "./options.js";
import { buildTree, mergeSecrets, type ConfigTree } from "./tree.js";
import { verifySnapshotText } from "./verify.js";

/** A verified snapshot with its secrets opened: ready to be swapped in. */
interface Accepted {
  snapshot: Snapshot;
  /** Exactly as received: what the cache file holds. */
  text: string;
  tree: ConfigTree;
}

/**
 * The snapshot in use: its metadata and its tree. Its text (written to the cache file when it was accepted) and
 * its `config` and `secrets` (merged into the tree) are not kept: a client holds its configuration once.
 */
interface InUse {
  snapshot: SnapshotMetadata;
  tree: ConfigTree;
}

/** What the first request to the endpoint brought: its snapshot text, or null and what was tried. */
export interface InitialAnswer {
  text: string | null;
  tried: string;
  /** The answer was refused before it was a snapshot text (larger than `maxBodyBytes`). */
  refused?: StrataClientError & { code: RejectionCode };
}

/** Where the configuration in use came from: the endpoint, or the cache file (the endpoint not confirming it yet). */
export type ConfigSource = "endpoint" | "cache";

/**
 * Refusals made after the signature verified: only their version is the publisher's word, so only they may
 * mark a version as handled (the follower's `Last-Event-ID`). An unsigned or altered body's version is
 * anyone's.
 */
const SIGNED_REJECTIONS: ReadonlySet<RejectionCode> = new Set([
  "wrong-environment",
  "expired",
  "version-regression",
  "decryption-failed",
  "mac-mismatch",
]);

interface StateHooks {
  /** A version was installed or refused: the follower need not fetch it again. */
  seen(version: number): void;
  /** A snapshot was swapped in: the facade's lookup index is its tree's. */
  installed(tree: ConfigTree): void;
}

export class AcceptedState {
  current: InUse | null = null;
  source: ConfigSource | null = null;
  /** The highest accepted version this process or its cache file has seen: nothing at or below it is taken. */
  private floor = 0;
  private lastRejection: { version: number; reason: RejectionCode } | null = null;
  private identities: string[] = [];
  private cacheProblem: string | null = null;
  private cacheWrite: Promise<void> = Promise.resolve();
  private staleTimer: NodeJS.Timeout | null = null;
  private staleReported = false;
  private header = "";

  constructor(
    private readonly settings: Settings,
    private readonly lifetime: Lifetime,
    private readonly emitter: Emitter,
    private readonly hooks: StateHooks,
  ) {
    this.updateHeader();
  }

  /** The version in use (0 before the first). */
  get version(): number {
    return this.current?.snapshot.version ?? 0;
  }

  get rejected(): { version: number; reason: RejectionCode } | null {
    return this.lastRejection;
  }

  /** The `Strata-Client` header this client sends now. */
  get clientHeader(): string {
    return this.header;
  }

  /** Reads the age identities. */
  async open(): Promise<void> {
    this.identities = await this.loadIdentities();
  }

  /**
   * Takes the endpoint's first answer, or falls back to the cache file: the endpoint's snapshot when it
   * verifies and is at least the cache's version, else the cache. Throws when neither is there. The cache
   * file is read here, once the chain is known (the endpoint's answer decided it, or offline the cache does):
   * a cache of another chain (the environment's, before it declared services) is neither used nor a floor.
   */
  async adopt(initial: InitialAnswer): Promise<void> {
    const offline = initial.text === null && initial.refused === undefined;
    const cached = await this.loadCache(offline);
    if (cached !== null) this.floor = Math.max(this.floor, cached.snapshot.version);
    if (initial.refused !== undefined) {
      this.reject(initial.refused);
      if (cached === null) throw initial.refused;
      this.install(cached, "cache");
    } else if (initial.text !== null) {
      try {
        const candidate = await this.prepare(initial.text, cached);
        if (candidate === "same") this.install(cached!, "endpoint", false);
        else this.install(candidate, "endpoint");
      } catch (e) {
        if (!isRejection(e)) throw e;
        this.reject(e);
        if (cached === null) throw e;
        this.install(cached, "cache");
      }
    } else if (cached !== null) {
      this.install(cached, "cache");
    } else {
      const { cacheFile, environment, endpoint, timeoutMs } = this.settings;
      const cacheNote =
        cacheFile === null
          ? "no cacheFile is configured"
          : `the cache file ${cacheFile} ${this.cacheProblem ?? "does not exist"}`;
      throw new StrataClientError(
        "unreachable",
        `cannot load ${environment}: ${endpoint} did not answer within ${timeoutMs} ms (${initial.tried}) and ${cacheNote}`,
      );
    }
  }

  /** Takes a snapshot text from the endpoint: verified and swapped in, or rejected with an `error` event. */
  async consider(text: string): Promise<void> {
    try {
      const next = await this.prepare(text, null);
      if (this.lifetime.closed) return;
      if (next !== "same") this.install(next, "endpoint");
      else this.source = "endpoint";
    } catch (e) {
      if (!isRejection(e)) throw e;
      this.reject(e);
    }
  }

  /** A refusal of an answer that never became a snapshot text (too large): reported like any other. */
  refuse(e: StrataClientError & { code: RejectionCode }): void {
    this.reject(e);
  }

  /** The endpoint answered that the version in use is its current one (304). */
  confirmed(): void {
    if (this.current !== null) this.source = "endpoint";
  }

  /** True once the snapshot in use is past its `expiresAt` (the endpoint stopped refreshing it). */
  isStale(): boolean {
    return this.current !== null && Date.now() >= Date.parse(this.current.snapshot.expiresAt);
  }

  /** Resolves once the cache file write in flight is done. */
  flush(): Promise<void> {
    return this.cacheWrite;
  }

  private async loadIdentities(): Promise<string[]> {
    const { identity, env } = this.settings;
    if (identity !== undefined) return parseAgeIdentities(identity);
    if (env.SOPS_AGE_KEY) return parseAgeIdentities(env.SOPS_AGE_KEY);
    if (env.SOPS_AGE_KEY_FILE) {
      try {
        return parseAgeIdentities(await readFile(env.SOPS_AGE_KEY_FILE, "utf8"));
      } catch (cause) {
        throw new StrataClientError(
          "invalid-argument",
          `cannot read SOPS_AGE_KEY_FILE ${env.SOPS_AGE_KEY_FILE}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`,
          { cause },
        );
      }
    }
    return [];
  }

  private async loadCache(offline: boolean): Promise<Accepted | null> {
    const file = this.settings.cacheFile;
    if (file === null) return null;
    let text: string | null;
    try {
      text = await readCacheFile(file);
    } catch (cause) {
      this.cacheProblem = `cannot be read (${(cause as NodeJS.ErrnoException).code ?? "error"})`;
      return null;
    }
    if (text === null) return null;
    // Offline, a service's client started before its environment declared services has the environment's
    // snapshot cached: it keeps reading that chain (verified like any other) until the endpoint answers.
    if (offline && this.settings.reads.service !== null && cachedChainIsEnvironment(text))
      this.settings.reads = { environment: this.settings.environment, service: null };
    try {
      const accepted = await this.prepare(text, null, "the cache file");
      return accepted === "same" ? null : accepted;
    } catch (e) {
      if (!isRejection(e)) throw e;
      this.cacheProblem = `was rejected (${e.code})`;
      // An expired cache is not used, but it was signed: nothing older than it is taken either.
      if (e.code === "expired" && e.version !== null) this.floor = Math.max(this.floor, e.version);
      this.emitter.emit("error", e);
      return null;
    }
  }

  /**
   * Verifies a snapshot text and builds its tree, or throws the rejection. `against` is what it must beat:
   * returns "same" when `text` is that very snapshot again.
   */
  private async prepare(text: string, against: Accepted | null, origin = "the endpoint"): Promise<Accepted | "same"> {
    const snapshot = verifySnapshotText(text, this.settings.reads, this.settings.trusted);
    const best = Math.max(this.floor, this.current?.snapshot.version ?? 0, against?.snapshot.version ?? 0);
    const sameAs = this.current ?? against;
    if (sameAs !== null && snapshot.version === sameAs.snapshot.version && snapshot.digest === sameAs.snapshot.digest)
      return "same";
    if (!this.settings.allowExpired && Date.now() >= Date.parse(snapshot.expiresAt)) {
      throw new StrataClientError(
        "expired",
        `snapshot v${snapshot.version} from ${origin} expired at ${snapshot.expiresAt}: an old version replayed, or nobody refreshed it (strata push --refresh); allowExpired takes it anyway`,
        { version: snapshot.version },
      );
    }
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
      secrets = await openSnapshotSecrets(snapshot.secrets, this.identities, snapshot.version);
    }
    return { snapshot, text, tree: buildTree(mergeSecrets(snapshot.config as never, secrets), secrets) };
  }

  /** Swaps `next` in; it is written to the cache file when it came from the endpoint (unless `persist` is false). */
  private install(next: Accepted, source: ConfigSource, persist = source === "endpoint"): void {
    const previous = this.current;
    this.source = source;
    const { config: _c, secrets: _s, ...meta } = next.snapshot;
    this.current = { snapshot: meta, tree: next.tree };
    this.hooks.installed(next.tree);
    this.floor = Math.max(this.floor, next.snapshot.version);
    this.hooks.seen(next.snapshot.version);
    this.updateHeader();
    this.armStaleness();
    if (persist) this.persist(next.text);
    if (previous !== null)
      this.emitter.changed(
        { tree: previous.tree, version: previous.snapshot.version },
        { tree: next.tree, version: next.snapshot.version },
      );
  }

  private reject(e: StrataClientError & { code: RejectionCode }): void {
    if (e.version !== null) {
      this.lastRejection = { version: e.version, reason: e.code };
      if (SIGNED_REJECTIONS.has(e.code)) this.hooks.seen(e.version);
    }
    this.updateHeader();
    this.emitter.emit("error", e);
  }

  /** The cache file: written in order, one at a time; a failure is an `error` event, never a crash. */
  private persist(text: string): void {
    const file = this.settings.cacheFile;
    if (file === null) return;
    this.cacheWrite = this.cacheWrite
      .then(() => writeCacheFile(file, text))
      .catch((cause: unknown) => {
        this.emitter.emit(
          "error",
          new StrataClientError(
            "invalid-argument",
            `cannot write the cache file ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`,
            { cause },
          ),
        );
      });
  }

  private updateHeader(): void {
    const { service, instance, kind } = this.settings;
    this.header = formatClientHeader({ service, instance, version: this.version, kind, rejected: this.lastRejection });
  }

  private armStaleness(): void {
    this.lifetime.clear(this.staleTimer);
    this.staleTimer = null;
    const current = this.current;
    if (current === null || this.lifetime.closed) return;
    this.staleReported = false;
    const at = Date.parse(current.snapshot.expiresAt);
    const check = (): void => {
      this.staleTimer = null;
      if (this.current !== current || this.lifetime.closed) return;
      const left = at - Date.now();
      if (left > 0) {
        this.staleTimer = this.lifetime.timer(check, left);
        return;
      }
      if (!this.staleReported) {
        this.staleReported = true;
        this.emitter.emit("stale", { version: current.snapshot.version, expiresAt: current.snapshot.expiresAt });
      }
    };
    // Reported from a timer even when already stale, so that listeners attached after ready() hear it.
    this.staleTimer = this.lifetime.timer(check, Math.max(0, at - Date.now()));
  }
}

/** Whether a cache file's text is an environment's snapshot (no `service`); a text that is no JSON is not. */
function cachedChainIsEnvironment(text: string): boolean {
  try {
    const doc = JSON.parse(text) as { service?: unknown } | null;
    return doc !== null && typeof doc === "object" && doc.service === undefined;
  } catch {
    return false;
  }
}
