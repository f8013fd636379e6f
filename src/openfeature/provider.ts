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
import type { ChangeEvent, StrataClient } from "@strata-config/client";
import { describeType, matchesType, type FlagType } from "./types.js";

/**
 * A rollout the client follows, as an SDK with progressive delivery reports it (`client.rollout()`): the
 * stable and candidate versions, the version this process runs and its cohort.
 */
export interface RolloutView {
  rollout: string;
  phase: string;
  planVersion: number;
  stable: number;
  candidate: number;
  running: number;
  cohort: "candidate" | "stable";
}

/** The rollout accessors of an SDK that has them; older SDKs have neither, and the provider does without. */
interface RolloutClient {
  rollout(): RolloutView | null;
  get(key: string, options: { entity: string }): unknown;
}

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
  split: RolloutView | null;
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
    const where = `${snapshot.environment}${snapshot.service === undefined ? "" : `/${snapshot.service}`} v${snapshot.version}`;
    // Before anything else, and whatever the type asked: a secret is never a flag, and what the refusal says
    // depends on the key alone, never on the value.
    if (client.isSensitive(key))
      return failure(
        defaultValue,
        ErrorCode.GENERAL,
        `strata: "${key}" in ${where} is sensitive (a secret, or a map holding one): the OpenFeature provider never serves sensitive values`,
      );
    const found = this.lookup(key, context);
    if (found === null) return failure(defaultValue, ErrorCode.FLAG_NOT_FOUND, `strata: ${this.unknownKey(key)}`);
    if (!matchesType(found.value, type))
      return failure(
        defaultValue,
        ErrorCode.TYPE_MISMATCH,
        `strata: "${key}" in ${where} is ${describeType(found.value)}, not ${type === "object" ? "an object (a map or an array)" : `a ${type}`}`,
      );
    const flagMetadata: FlagMetadata = { environment: snapshot.environment, version: found.version };
    if (snapshot.service !== undefined) flagMetadata.service = snapshot.service;
    if (found.split !== null) {
      flagMetadata.rollout = found.split.rollout;
      flagMetadata.stable = found.split.stable;
      flagMetadata.candidate = found.split.candidate;
    }
    return {
      value: found.value as T,
      variant: String(found.version),
      reason: client.isStale()
        ? StandardResolutionReasons.STALE
        : found.split !== null
          ? StandardResolutionReasons.SPLIT
          : StandardResolutionReasons.STATIC,
      flagMetadata,
    };
  }

  /** The value at `key` for this evaluation, or null when the configuration has no such key. */
  private lookup(key: string, context: EvaluationContext): Found | null {
    const client = this.client;
    const split = rolloutOf(client);
    const entity = context.targetingKey;
    if (split !== null && typeof entity === "string" && entity !== "") {
      let value: unknown;
      try {
        value = (client as unknown as RolloutClient).get(key, { entity });
      } catch (e) {
        if ((e as { code?: unknown }).code === "unknown-key") return null;
        throw e;
      }
      return { value, version: split.running, split };
    }
    const value: unknown = client.get(key, MISSING);
    if (value === MISSING) return null;
    return { value, version: split?.running ?? client.version, split };
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
    const refusing = rejected !== null && rejected.version > client.version;
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

/** The rollout the client follows, when its SDK has rollouts and one is running. */
function rolloutOf(client: AnyStrataClient): RolloutView | null {
  const accessor = (client as unknown as Partial<RolloutClient>).rollout;
  if (typeof accessor !== "function") return null;
  return accessor.call(client);
}

function failure<T>(value: T, errorCode: ErrorCode, errorMessage: string): ResolutionDetails<T> {
  return { value, reason: StandardResolutionReasons.ERROR, errorCode, errorMessage };
}
