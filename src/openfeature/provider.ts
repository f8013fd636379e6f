/**
 * strata's OpenFeature provider for Node (`@openfeature/server-sdk`): flags are the configuration keys a
 * strata client serves (docs/openfeature.md). A flag key is a dotted key (`checkout.new_flow`); its type is
 * the type the schemas gave the value (every snapshot was validated before it was signed); its variant is
 * the configuration version; its reason says how the value was chosen (`STATIC`, `SPLIT` during a rollout,
 * `STALE` past the snapshot's `expiresAt`). Sensitive keys are refused: the provider hands on no secret.
 *
 * The provider reads a client the service made (`createClient` of `strata-config/client`) and never closes
 * it; its status follows the client's (READY, STALE past `expiresAt`, ERROR while the newest version the
 * endpoint published was refused), and each new version the client takes is a `ConfigurationChanged` event
 * naming the keys it changed.
 */
import {
  ErrorCode,
  OpenFeatureEventEmitter,
  ProviderEvents,
  ProviderFatalError,
  StandardResolutionReasons,
  type EvaluationContext,
  type FlagMetadata,
  type JsonValue,
  type Provider,
  type ResolutionDetails,
} from "@openfeature/server-sdk";
import type { ChangeEvent, RolloutInfo, StrataClient } from "@strata-config/client";
import { describeType, matchesType, type FlagType } from "./types.js";

/**
 * The rollout accessor of an SDK with progressive delivery: `client.rollout({ entity })` says where a request
 * about the entity stands (its cohort, the version it reads). A client of an older SDK has none; the provider
 * then never splits.
 */
type RolloutAccessor = (options?: { entity: string }) => RolloutInfo | null;

/** Any strata client, whatever the type of its configuration. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a client typed with any `StrataConfig` is accepted
export type AnyStrataClient = StrataClient<any>;

type Status = "READY" | "STALE" | "ERROR";

const MISSING: unique symbol = Symbol("missing");

/** What one evaluation found before its type is checked. */
interface Found {
  value: unknown;
  /** The version whose value this is (the variant). */
  version: number;
}

export class StrataProvider implements Provider {
  readonly metadata = { name: "strata" } as const;
  readonly runsOn = "server" as const;
  readonly events = new OpenFeatureEventEmitter();

  private readonly client: AnyStrataClient;
  private readonly unsubscribe: (() => void)[] = [];
  /** The status last announced to the SDK (it sets READY itself when `initialize` resolves). */
  private announced: Status | null = null;

  constructor(client: AnyStrataClient) {
    this.client = client;
  }

  /**
   * Waits for the client's first verified snapshot. A client that cannot load (no endpoint and no cache
   * file, a refused first snapshot) has closed itself: the provider is then FATAL, with the client's reason.
   */
  async initialize(): Promise<void> {
    if (this.unsubscribe.length === 0) {
      this.unsubscribe.push(
        this.client.on("change", (e) => this.changed(e)),
        this.client.on("stale", () => this.sync()),
        this.client.on("error", () => this.sync()),
      );
    }
    try {
      await this.client.ready();
    } catch (e) {
      const code = (e as { code?: unknown }).code;
      throw new ProviderFatalError(
        `strata: the client could not load its configuration${typeof code === "string" ? ` (${code})` : ""}: ${(e as Error).message}`,
      );
    }
    this.announced = "READY";
    // The SDK marks the provider READY once this promise settles; a client already stale (or already
    // refusing) is announced right after.
    setImmediate(() => this.sync());
  }

  /** Detaches from the client; the client stays open (whoever created it closes it). */
  async onClose(): Promise<void> {
    for (const off of this.unsubscribe.splice(0)) off();
    this.announced = null;
  }

  resolveBooleanEvaluation(
    flagKey: string,
    defaultValue: boolean,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<boolean>> {
    return Promise.resolve(this.resolve(flagKey, "boolean", defaultValue, context));
  }

  resolveStringEvaluation(
    flagKey: string,
    defaultValue: string,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<string>> {
    return Promise.resolve(this.resolve(flagKey, "string", defaultValue, context));
  }

  resolveNumberEvaluation(
    flagKey: string,
    defaultValue: number,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<number>> {
    return Promise.resolve(this.resolve(flagKey, "number", defaultValue, context));
  }

  resolveObjectEvaluation<T extends JsonValue>(
    flagKey: string,
    defaultValue: T,
    context: EvaluationContext,
  ): Promise<ResolutionDetails<T>> {
    return Promise.resolve(this.resolve(flagKey, "object", defaultValue, context));
  }

  // ---- evaluation -------------------------------------------------------------------------------------

  private resolve<T>(key: string, type: FlagType, defaultValue: T, context: EvaluationContext): ResolutionDetails<T> {
    const client = this.client;
    const snapshot = client.snapshot;
    if (snapshot === null)
      return failure(defaultValue, ErrorCode.PROVIDER_NOT_READY, "strata: no configuration loaded yet");
    const chain = `${snapshot.environment}${snapshot.service === undefined ? "" : `/${snapshot.service}`}`;
    // During a rollout, a request about an entity (the context's targeting key) reads the version the plan
    // gives that entity; otherwise every evaluation reads the version this process runs.
    const targetingKey = context.targetingKey;
    const entity = typeof targetingKey === "string" && targetingKey !== "" ? { entity: targetingKey } : undefined;
    const split = rolloutOf(client, entity);
    const subject = split === null ? undefined : entity;
    // Before anything else, and whatever the type asked: a secret is never a flag, and what the refusal says
    // depends on the key alone, never on the value.
    if (client.isSensitive(key) || (subject !== undefined && client.isSensitive(key, subject)))
      return failure(
        defaultValue,
        ErrorCode.GENERAL,
        `strata: "${key}" in ${chain} v${snapshot.version} is sensitive (a secret, or a map holding one): the OpenFeature provider never serves sensitive values`,
      );
    const found = lookup(client, key, subject);
    if (found === null) return failure(defaultValue, ErrorCode.FLAG_NOT_FOUND, `strata: ${this.unknownKey(key)}`);
    if (!matchesType(found.value, type))
      return failure(
        defaultValue,
        ErrorCode.TYPE_MISMATCH,
        `strata: "${key}" in ${chain} v${found.version} is ${describeType(found.value)}, not ${type === "object" ? "an object (a map or an array)" : `a ${type}`}`,
      );
    const flagMetadata: FlagMetadata = { environment: snapshot.environment, version: found.version };
    if (snapshot.service !== undefined) flagMetadata.service = snapshot.service;
    if (split !== null) {
      flagMetadata.rollout = split.rollout;
      flagMetadata.stable = split.stable;
      flagMetadata.candidate = split.candidate;
      flagMetadata.cohort = split.cohort;
    }
    return {
      value: found.value as T,
      variant: String(found.version),
      reason: client.isStale()
        ? StandardResolutionReasons.STALE
        : split !== null
          ? StandardResolutionReasons.SPLIT
          : StandardResolutionReasons.STATIC,
      flagMetadata,
    };
  }

  /** The client's own words for a key it does not have (it names a service's namespaces), never a value. */
  private unknownKey(key: string): string {
    try {
      this.client.get(key);
    } catch (e) {
      return (e as Error).message;
    }
    return `unknown key "${key}"`;
  }

  // ---- status and events ------------------------------------------------------------------------------

  private changed(e: ChangeEvent): void {
    this.sync();
    if (this.announced === null) return;
    // Key paths only, never values; the sensitive keys are no flags of this provider.
    const flagsChanged = e.changes.filter((c) => !c.sensitive).map((c) => c.key);
    if (flagsChanged.length === 0) return;
    this.events.emit(ProviderEvents.ConfigurationChanged, {
      flagsChanged,
      message: `strata: v${e.version} replaced v${e.previousVersion}`,
      metadata: { version: e.version, previousVersion: e.previousVersion },
    });
  }

  /** Announces the client's state when it changed: ERROR over STALE over READY. */
  private sync(): void {
    if (this.announced === null) return;
    const client = this.client;
    const rejected = client.lastRejected;
    // Refusing: the newest version the client heard of is one it refused. During a rollout this process may
    // run the stable version while it holds a newer candidate: the newest it has is the candidate.
    const newest = Math.max(client.version, rolloutOf(client, undefined)?.candidate ?? 0);
    const refusing = rejected !== null && rejected.version > newest;
    const next: Status = refusing ? "ERROR" : client.isStale() ? "STALE" : "READY";
    if (next === this.announced) return;
    this.announced = next;
    const snapshot = client.snapshot!;
    const metadata = { version: client.version };
    if (next === "ERROR")
      this.events.emit(ProviderEvents.Error, {
        message: `strata: refused v${rejected!.version} of ${snapshot.environment} (${rejected!.reason}); serving v${client.version}`,
        metadata: { ...metadata, rejectedVersion: rejected!.version, reason: rejected!.reason },
      });
    else if (next === "STALE")
      this.events.emit(ProviderEvents.Stale, {
        message: `strata: ${snapshot.environment} v${client.version} expired at ${snapshot.expiresAt}; serving it until a newer version arrives`,
        metadata: { ...metadata, expiresAt: snapshot.expiresAt },
      });
    else this.events.emit(ProviderEvents.Ready, { message: `strata: serving v${client.version}`, metadata });
  }
}

/** Phases in which nothing is split any more: every client runs the candidate (promoted) or the stable version. */
const SETTLED = new Set(["promoted", "rolled-back", "aborted"]);

/**
 * The rollout the client follows (for `entity`, where that entity stands), when its SDK has rollouts and
 * one is still splitting its clients.
 */
function rolloutOf(client: AnyStrataClient, entity: { entity: string } | undefined): RolloutInfo | null {
  const accessor = (client as { rollout?: unknown }).rollout;
  if (typeof accessor !== "function") return null;
  const info = (accessor as RolloutAccessor).call(client, entity);
  return info === null || SETTLED.has(info.phase) ? null : info;
}

/** The value at `key` (for a request about `subject` during a rollout), or null when there is no such key. */
function lookup(client: AnyStrataClient, key: string, subject: { entity: string } | undefined): Found | null {
  if (subject === undefined) {
    const value: unknown = client.get(key, MISSING);
    return value === MISSING ? null : { value, version: client.version };
  }
  const value: unknown = client.get(key, { entity: subject.entity, fallback: MISSING });
  return value === MISSING ? null : { value, version: client.rollout(subject)!.running };
}

function failure<T>(value: T, errorCode: ErrorCode, errorMessage: string): ResolutionDetails<T> {
  return { value, reason: StandardResolutionReasons.ERROR, errorCode, errorMessage };
}
