/**
 * The accepted state: the snapshot in use and the rules for replacing it. A snapshot, from the endpoint or
 * the cache file, is verified (verify.ts), must be newer than anything this process or its cache file has
 * seen, and has its secrets opened before it is swapped in whole; a refused one leaves the current one in
 * place and is reported (an `error` event, the `Strata-Client` header). Each accepted snapshot is written to
 * the cache file exactly as received. Freshness (`expiresAt`) is watched here too: a snapshot already past
 * it is refused (`expired`) unless `allowExpired`; the one in use that expires stays, reported stale.
 *
 * A rollout plan (core/rollout/plan.ts) can make the version in use older than the newest one: the state
 * keeps the newest accepted snapshot (the head: what the cache file holds and what nothing may go below)
 * apart from the one in use, holds the two versions the plan names (so that a rollback or a promotion is a
 * swap in memory, never a fetch), and runs the one `versionFor` gives this instance. docs/runtime.md,
 * "Rollouts".
 */
import { readFile } from "node:fs/promises";
import {
  formatClientHeader,
  type RejectionCode,
  type Snapshot,
  type SnapshotMetadata,
} from "../core/protocol/index.js";
import {
  acceptedPlan,
  versionFor,
  type PlanCheck,
  type PlanRefusal,
  type RolloutPlan,
  type SignedVersion,
} from "../core/rollout/plan.js";
import type { VersionRef } from "../core/snapshot/snapshot.js";
import { readCacheFile, removeCacheFile, writeCacheFile } from "./cache.js";
import { isRejection, StrataClientError } from "./errors.js";
import type { Emitter } from "./events.js";
import { parseAgeIdentities } from "./identity.js";
import type { Lifetime } from "./lifetime.js";
import type { Settings } from "./options.js";
import { buildTree, mergeSecrets, sharedTree, type ConfigTree } from "./tree.js";
import { verifyPlanOnce, verifySnapshotOnce } from "./verify.js";

/** A verified snapshot with its secrets opened: ready to be swapped in. */
interface Accepted {
  snapshot: Snapshot;
  /** Exactly as received: what the cache file holds. */
  text: string;
  tree: ConfigTree;
  /** Its version as verified with the publishing keys: what a plan may name. */
  signed: SignedVersion;
}

/**
 * A snapshot held: its metadata, its tree, its text (for the cache files) and its verified version. Its
 * `config` and `secrets` are not kept (merged into the tree).
 */
interface Held {
  snapshot: SnapshotMetadata;
  text: string;
  tree: ConfigTree;
  signed: SignedVersion;
}

/** The plan followed: its text (as signed, what the plan cache holds) and its content. */
interface Followed {
  plan: RolloutPlan;
  text: string;
}

/** What `client.rollout()` says: the plan this client follows and where it stands in it. */
export interface RolloutInfo {
  rollout: string;
  phase: RolloutPlan["phase"];
  planVersion: number;
  stable: number;
  candidate: number;
  /** The version this client runs. */
  running: number;
  cohort: "candidate" | "stable";
}

/** The last plan refused and why. */
export interface RefusedPlan {
  /** The plan's version, when it had a readable one. */
  planVersion: number | null;
  refusal: PlanRefusal;
  message: string;
}

/** The plan cache (beside the cache file): the plan followed and the versions it names other than the head. */
interface PlanCacheFile {
  kind: "strata.client-plan-cache";
  plan: string;
  versions: string[];
}

/** What the first request to the endpoint brought: its snapshot text, or null and what was tried. */
export interface InitialAnswer {
  text: string | null;
  tried: string;
  /** The rollout plan's text, null when the endpoint has none; absent when it was not asked or did not answer. */
  plan?: string | null;
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
  installed(tree: ConfigTree, version: number): void;
  /** The text of `snapshots/{version}` from the endpoint (a version a plan names that is not held). */
  fetchVersion(version: number): Promise<string>;
}

export class AcceptedState {
  /** The snapshot in use. */
  current: Held | null = null;
  /** The newest accepted snapshot (the cache file's): the one in use unless a plan says otherwise. */
  head: Held | null = null;
  /** The head and the versions the plan followed names, by version. */
  private readonly held = new Map<number, Held>();
  private followed: Followed | null = null;
  /** A verified-looking plan naming a version newer than the head that the endpoint did not serve yet. */
  private pendingPlan: string | null = null;
  private planRefused: RefusedPlan | null = null;
  /** While the first answer (and the cache files) are taken in: nothing is swapped in until all are read. */
  private adopting = false;
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
  /** When the version in use became it (Date.now()), for the header's `running`. */
  private runningSince = 0;

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

  /** The newest version accepted (the head): the endpoint's current one unless something was refused. */
  get headVersion(): number {
    return this.head?.snapshot.version ?? 0;
  }

  get rejected(): { version: number; reason: RejectionCode } | null {
    return this.lastRejection;
  }

  get refusedPlan(): RefusedPlan | null {
    return this.planRefused;
  }

  /** The plan this client follows, when it covers the head (a newer version than its candidate ends it). */
  private get covering(): Followed | null {
    const f = this.followed;
    return f !== null && this.head !== null && this.head.snapshot.version <= f.plan.candidate.version ? f : null;
  }

  /** Where this instance stands in the rollout, or with `entity` where a request about that entity does. */
  rollout(entity?: string): RolloutInfo | null {
    const f = this.covering;
    if (f === null || this.current === null) return null;
    const { plan } = f;
    const running = entity === undefined ? this.current : this.heldFor(entity)!;
    return {
      rollout: plan.rollout,
      phase: plan.phase,
      planVersion: plan.planVersion,
      stable: plan.stable.version,
      candidate: plan.candidate.version,
      running: running.snapshot.version,
      cohort: versionFor(plan, entity === undefined ? { instance: this.settings.instance } : { entity }).role,
    };
  }

  /** The configuration a request about `entity` reads: the version the plan gives that entity. */
  treeFor(entity: string): ConfigTree | null {
    return this.heldFor(entity)?.tree ?? null;
  }

  private heldFor(entity: string): Held | null {
    const f = this.covering;
    if (f === null) return this.current;
    const { ref } = versionFor(f.plan, { entity });
    return this.held.get(ref.version) ?? this.current;
  }

  /**
   * The `Strata-Client` header this client sends now. `running` says how long the version has been in use,
   * so that the endpoint dates a switch this client tells it of later (the follower spreads those requests).
   */
  get clientHeader(): string {
    return this.runningSince === 0 ? this.header : `${this.header}; running=${Date.now() - this.runningSince}`;
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
    this.adopting = true;
    try {
      await this.adoptSnapshot(initial);
      if (this.head !== null) await this.loadPlanCache();
      if (initial.plan === null) this.dropPlan();
      else if (initial.plan !== undefined) await this.considerPlan(initial.plan);
    } finally {
      this.adopting = false;
    }
    this.apply();
  }

  private async adoptSnapshot(initial: InitialAnswer): Promise<void> {
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
      if (next !== "same") {
        this.accept(next, "endpoint");
        // The plan that came before this version (the endpoint sends a plan before the version it names):
        // taken now, before the version runs, so a client it keeps on the stable version never runs it.
        const pending = this.pendingPlan;
        this.pendingPlan = null;
        if (pending !== null) await this.considerPlan(pending);
        this.apply();
      } else this.source = "endpoint";
    } catch (e) {
      if (!isRejection(e)) throw e;
      this.reject(e);
      // A plan waiting for this version waits no more: judged now (refused, as it names a version this
      // client does not hold), not left pending until some later version.
      const pending = this.pendingPlan;
      if (pending !== null && e.version !== null && namedVersions(pending).some((r) => r.version === e.version)) {
        this.pendingPlan = null;
        await this.considerPlan(pending);
      }
    }
  }

  /**
   * Takes a rollout plan's text (from the event stream or GET …/plan): followed when it verifies (a rollout
   * key signed it, for this chain, naming two versions a publishing key signed, not going back from the plan
   * followed), else refused with an `error` event (`plan-refused`) and nothing changes. The versions it names
   * that are not held are fetched, but only once its signature verified: a forged plan costs no request.
   */
  async considerPlan(text: string): Promise<void> {
    this.pendingPlan = null;
    const extra: Accepted[] = [];
    let check = this.checkPlan(text, extra);
    if (!check.ok && check.refusal === "unsigned-version") {
      let failure = "";
      for (const ref of namedVersions(text)) {
        if (this.held.has(ref.version)) continue; // held with another digest: refused below
        try {
          extra.push(await this.prepareNamed(await this.hooks.fetchVersion(ref.version), ref));
        } catch (e) {
          if (isRejection(e)) this.reject(e);
          else if (!(e instanceof StrataClientError)) throw e;
          else if (ref.version > this.headVersion) {
            // A version the endpoint does not serve yet (the plan travels first): the plan waits for it,
            // and nothing changes meanwhile.
            this.pendingPlan = text;
            return;
          }
          failure = ` (v${ref.version}: ${(e as Error).message})`;
          break;
        }
        if (this.lifetime.closed) return;
      }
      check = this.checkPlan(text, extra);
      if (!check.ok && failure !== "") check = { ...check, message: check.message + failure };
    }
    if (this.lifetime.closed) return;
    if (!check.ok) {
      this.prune();
      return this.refusePlan(check, text);
    }
    if (check.unchanged) return;
    // Followed first: taking its candidate as the head must not let go of its stable version.
    this.followed = { plan: check.plan, text };
    for (const next of extra) {
      if (next.snapshot.version > this.headVersion) this.accept(next, "endpoint");
      else this.held.set(next.snapshot.version, toHeld(next));
    }
    this.prune();
    this.persistPlan();
    this.apply();
  }

  /** The endpoint has no plan for the chain: the newest version runs. */
  dropPlan(): void {
    if (this.followed === null) return;
    this.followed = null;
    this.prune();
    this.persistPlan();
    this.apply();
  }

  private checkPlan(text: string, extra: readonly Accepted[], fromCache = false): PlanCheck {
    const signedVersions: SignedVersion[] = [...this.held.values(), ...extra].map((h) => h.signed);
    return verifyPlanOnce(text, {
      environment: this.settings.reads.environment,
      service: this.settings.reads.service,
      rolloutKeys: this.settings.rolloutKeys,
      signedVersions,
      previous: fromCache || this.followed === null ? null : acceptedPlan(this.followed.plan),
      now: Date.now(),
      // The plan cache is last-known-good: its plan keeps the cohort's version while the endpoint is away.
      allowExpired: fromCache || this.settings.allowExpired,
    });
  }

  private refusePlan(check: PlanCheck & { ok: false }, text: string): void {
    const planVersion = planVersionOf(text);
    const message =
      this.settings.rolloutKeys.length === 0 && check.refusal === "untrusted-signature"
        ? `a rollout plan arrived but this client has no rolloutKeys (rollouts.trusted_keys): it follows no plan and runs the newest version (${check.message})`
        : `rollout plan refused (${check.refusal}), the version in use stays v${this.version}: ${check.message}`;
    this.planRefused = { planVersion, refusal: check.refusal, message };
    this.emitter.emit(
      "error",
      new StrataClientError("plan-refused", message, { version: planVersion, refusal: check.refusal }),
    );
  }

  /** Which held version runs: the head, unless the plan covering it gives this instance its stable version. */
  private choose(): Held | null {
    const f = this.covering;
    if (f === null || this.head === null) return this.head;
    const { ref } = versionFor(f.plan, { instance: this.settings.instance });
    return this.held.get(ref.version) ?? this.head;
  }

  /** Keeps the head and, while a plan covers it, the two versions the plan names; lets go of the rest. */
  private prune(): void {
    const keep = new Set<number>([this.headVersion]);
    const f = this.covering;
    if (f !== null) {
      keep.add(f.plan.stable.version);
      keep.add(f.plan.candidate.version);
    }
    for (const v of [...this.held.keys()]) if (!keep.has(v)) this.held.delete(v);
  }

  /** Swaps in what `choose` says, with a `change` event when it replaced another. */
  private apply(): void {
    if (this.adopting || this.lifetime.closed) return;
    const next = this.choose();
    const previous = this.current;
    if (next === null || next === previous) return;
    this.current = next;
    this.runningSince = Date.now();
    this.hooks.installed(next.tree, next.snapshot.version);
    this.updateHeader();
    this.armStaleness();
    if (previous !== null)
      this.emitter.changed(
        { tree: previous.tree, version: previous.snapshot.version },
        { tree: next.tree, version: next.snapshot.version },
      );
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
    const { snapshot, signed } = verifySnapshotOnce(text, this.settings.reads, this.settings.trusted);
    const best = Math.max(this.floor, this.headVersion, against?.snapshot.version ?? 0);
    const sameAs = this.head ?? against;
    if (sameAs !== null && snapshot.version === sameAs.snapshot.version && snapshot.digest === sameAs.snapshot.digest)
      return "same";
    this.checkFresh(snapshot, origin);
    if (snapshot.version <= best && best > 0) {
      throw new StrataClientError(
        "version-regression",
        `snapshot v${snapshot.version} from ${origin} is not newer than v${best}, the newest already seen: a replay or a frozen endpoint`,
        { version: snapshot.version },
      );
    }
    return this.openSnapshot(snapshot, text, signed);
  }

  /**
   * Verifies the text of a version a plan names (`snapshots/{v}`): signed like any snapshot, fresh, and that
   * very version; it may be older than the head (the plan's stable version).
   */
  private async prepareNamed(text: string, ref: VersionRef, origin = "the endpoint"): Promise<Accepted> {
    const { snapshot, signed } = verifySnapshotOnce(text, this.settings.reads, this.settings.trusted);
    if (snapshot.version !== ref.version || snapshot.digest !== ref.digest)
      throw new StrataClientError(
        "invalid-snapshot",
        `${origin} answered v${snapshot.version} (${snapshot.digest.slice(0, 19)}…) for v${ref.version} (${ref.digest.slice(0, 19)}…) of the rollout plan`,
        { version: snapshot.version },
      );
    this.checkFresh(snapshot, origin);
    return this.openSnapshot(snapshot, text, signed);
  }

  private checkFresh(snapshot: Snapshot, origin: string): void {
    if (!this.settings.allowExpired && Date.now() >= Date.parse(snapshot.expiresAt)) {
      throw new StrataClientError(
        "expired",
        `snapshot v${snapshot.version} from ${origin} expired at ${snapshot.expiresAt}: an old version replayed, or nobody refreshed it (strata push --refresh); allowExpired takes it anyway`,
        { version: snapshot.version },
      );
    }
  }

  /** Opens the secrets and builds the tree. */
  private async openSnapshot(snapshot: Snapshot, text: string, signed: SignedVersion): Promise<Accepted> {
    if (snapshot.secrets === null) return { snapshot, text, tree: sharedTree(snapshot.config), signed };
    // The SOPS engine loads with the first snapshot that has secrets: services without any skip its cost.
    const { openSnapshotSecrets } = await import("./secrets.js");
    const secrets = await openSnapshotSecrets(snapshot.secrets, this.identities, snapshot.version);
    return { snapshot, text, tree: buildTree(mergeSecrets(snapshot.config as never, secrets), secrets), signed };
  }

  /** Takes `next` as the head and runs what the plan says: {@link accept}, then {@link apply}. */
  private install(next: Accepted, source: ConfigSource, persist = source === "endpoint"): void {
    this.accept(next, source, persist);
    this.apply();
  }

  /**
   * Makes `next` the head; it is written to the cache file when it came from the endpoint (unless `persist`
   * is false). What runs is {@link apply}'s to decide.
   */
  private accept(next: Accepted, source: ConfigSource, persist = source === "endpoint"): void {
    this.source = source;
    const held = toHeld(next);
    this.head = held;
    this.held.set(held.snapshot.version, held);
    this.floor = Math.max(this.floor, next.snapshot.version);
    this.hooks.seen(next.snapshot.version);
    // A plan waiting for this version names the one in use as its stable version: kept until it is taken.
    if (this.pendingPlan === null) this.prune();
    if (persist) this.persist(next.text);
  }

  /**
   * Reads the plan cache: the plan followed when the process stopped and the versions it names other than the
   * head. Used when it still verifies against the head (expired or not: it is last-known-good); else ignored.
   */
  private async loadPlanCache(): Promise<void> {
    const file = this.planCacheFile;
    if (file === null) return;
    let doc: PlanCacheFile;
    try {
      const text = await readCacheFile(file);
      if (text === null) return;
      doc = JSON.parse(text) as PlanCacheFile;
      if (doc?.kind !== "strata.client-plan-cache" || typeof doc.plan !== "string" || !Array.isArray(doc.versions))
        return;
    } catch {
      return; // unreadable or not ours: the endpoint's plan replaces it
    }
    const refs = new Map(namedVersions(doc.plan).map((r) => [r.version, r]));
    const extra: Accepted[] = [];
    for (const text of doc.versions.slice(0, 2)) {
      if (typeof text !== "string") continue;
      try {
        const version = JSON.parse(text) as { version?: unknown };
        const ref = refs.get(Number(version.version));
        if (ref !== undefined && !this.held.has(ref.version))
          extra.push(await this.prepareNamed(text, ref, "the plan cache"));
      } catch (e) {
        if (!(e instanceof StrataClientError) && !(e instanceof SyntaxError)) throw e;
      }
    }
    const check = this.checkPlan(doc.plan, extra, true);
    if (!check.ok) return;
    for (const next of extra) this.held.set(next.snapshot.version, toHeld(next));
    this.followed = { plan: check.plan, text: doc.plan };
    this.prune();
  }

  private get planCacheFile(): string | null {
    return this.settings.cacheFile === null ? null : `${this.settings.cacheFile}.plan`;
  }

  /** Writes (or, with no plan covering the head, removes) the plan cache, after the cache file's writes. */
  private persistPlan(): void {
    const file = this.planCacheFile;
    if (file === null) return;
    const f = this.covering;
    const head = this.headVersion;
    const doc: PlanCacheFile | null =
      f === null
        ? null
        : {
            kind: "strata.client-plan-cache",
            plan: f.text,
            versions: [...this.held.values()].filter((h) => h.snapshot.version !== head).map((h) => h.text),
          };
    this.cacheWrite = this.cacheWrite
      .then(() => (doc === null ? removeCacheFile(file) : writeCacheFile(file, JSON.stringify(doc))))
      .catch((cause: unknown) => this.cacheWriteFailed(file, cause));
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
      .catch((cause: unknown) => this.cacheWriteFailed(file, cause));
  }

  private cacheWriteFailed(file: string, cause: unknown): void {
    this.emitter.emit(
      "error",
      new StrataClientError(
        "invalid-argument",
        `cannot write the cache file ${file}: ${(cause as NodeJS.ErrnoException).code ?? (cause as Error).message}`,
        { cause },
      ),
    );
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

function toHeld(a: Accepted): Held {
  const { config: _c, secrets: _s, ...meta } = a.snapshot;
  return { snapshot: meta, text: a.text, tree: a.tree, signed: a.signed };
}

/** The stable and candidate versions a plan text names (none when it is not a plan: its check says why). */
function namedVersions(text: string): VersionRef[] {
  try {
    const p = JSON.parse(text) as Partial<RolloutPlan> | null;
    const refs: VersionRef[] = [];
    for (const r of [p?.stable, p?.candidate])
      if (r && Number.isSafeInteger(r.version) && r.version > 0 && typeof r.digest === "string")
        refs.push({ version: r.version, digest: r.digest });
    return refs.slice(0, 2);
  } catch {
    return [];
  }
}

function planVersionOf(text: string): number | null {
  const m = /"planVersion":(\d{1,15})[,}]/.exec(text);
  return m ? Number(m[1]) : null;
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
