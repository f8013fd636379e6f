/**
 * The endpoint's side of progressive delivery (docs/rollouts.md): it starts a rollout when a version is
 * published on a chain whose environment has a policy, signs the plan the clients follow, aggregates their
 * health reports, runs the decision loop, and tells the event streams, the webhooks and the audit trail.
 *
 * Every decision is a pure function (core/rollout) of the record in the store (record.ts) and of the reports
 * every server shares through it, so servers agree and any of them continues where another stopped: each
 * change is a compare-and-swap of the chain's record, and a server that loses the race reads the winner's
 * record instead (its store watch tells it at once). Plans travel before the versions they name: the record
 * is stored before the publish moves the head, and a server that sees a new head re-reads the record before
 * it announces the version.
 */
import {
  formatPlanEvent,
  MAX_REPORTS_PER_BATCH,
  type CohortHealth,
  type HealthReportAnswer,
  type HealthReportBatch,
  type RolloutDecisionRecord,
  type RolloutStatusDocument,
  type RolloutSummary,
} from "../../core/protocol/index.js";
import { chainKey, chainLabel, type Chain } from "../../core/protocol/chains.js";
import {
  addReport,
  applyDecision,
  calibratedBoundary,
  changedKeyPaths,
  cohortPosition,
  cohortTotals,
  createChangeEvent,
  createPlan,
  decide,
  DEFAULT_PLAN_TTL_MS,
  DEFAULT_POLICY,
  emptyAggregate,
  FINAL_PHASES,
  operate,
  parseHealthReport,
  policyFor,
  reportSignals,
  rolloutEvent,
  rolloutIdFor,
  serializePlan,
  startRollout,
  stepPercents,
  versionFor,
  type ChangeEvent,
  type ChangeEventKind,
  type Decision,
  type GateSignal,
  type OperatorAction,
  type ReportAggregate,
  type RolloutPolicy,
  type RolloutSettings,
  type RolloutState,
} from "../../core/rollout/index.js";
import type { JsonObject } from "../../core/json.js";
import type { Snapshot } from "../../core/protocol/snapshot.js";
import type { SigningKey } from "../../core/snapshot/index.js";
import type { SnapshotStore, StoredRollout } from "../../io/stores/index.js";
import { prometheusGateSignal } from "../../io/prometheus/gate-signal.js";
import type { PrometheusClient } from "../../io/prometheus/client.js";
import { sendChangeEvent, type WebhookSink } from "../../io/webhooks/deliver.js";
import type { ClientTracker } from "../clients.js";
import type { EnvironmentCache } from "../environments.js";
import { HttpError } from "../http.js";
import type { LogFn } from "../log.js";
import type { StoreReader } from "../store-reader.js";
import { auditEntryOf } from "./audit.js";
import {
  MAX_DECISIONS,
  clientRefusals,
  mergeAggregates,
  parseRecord,
  parseSharedReports,
  RECORD_KIND,
  type RolloutRecord,
  type SharedReports,
} from "./record.js";

/** `strata serve --rollout-key …`: what a server needs to run rollouts (without it, it only serves plans). */
export interface RolloutConfig {
  /** Signs the plans; its public key is in strata.yaml `rollouts.trusted_keys` (run.ts checks). */
  key: SigningKey;
  settings: RolloutSettings;
  /** Each environment's inheritance chain, root first (strata.yaml `environments:`). */
  chains: ReadonlyMap<string, readonly string[]>;
  prometheus: PrometheusClient | null;
  webhooks: readonly WebhookSink[];
  /** The decision loop's period (`--rollout-interval`). */
  intervalMs: number;
  /** Plans live this long and are renewed at half of it. */
  planTtlMs?: number;
}

export const DEFAULT_ROLLOUT_INTERVAL_MS = 5_000;
const LOOP_ACTOR = "strata serve";

/** What this server holds of a chain's record, ready to send. */
interface Entry {
  stored: StoredRollout;
  record: RolloutRecord;
  body: Buffer;
  etag: string;
  frame: string;
}

/** A token bucket per reporting client: a burst, then a steady rate. */
const REPORT_BURST = 10;
const REPORT_PER_SECOND = 1;
const MAX_BUCKETS = 100_000;
/** Chains remembered as having no rollout record (see RolloutManager.absent). */
const MAX_ABSENT_CHAINS = 10_000;

/** Told of each change this server decided (not awaited: a listener never holds a decision). */
export type ChangeListener = (kind: ChangeEventKind, record: RolloutRecord, actor: string | null) => void;

/** What the publish hook hands back: the publish goes ahead, then says how it ended. */
export interface PublishTicket {
  /** The publish moved the head: the change events go out. */
  published(): void;
  /** The publish lost (a conflict or an error): the plan naming the lost version is withdrawn. */
  lost(): Promise<void>;
}

export class RolloutManager {
  private readonly entries = new Map<string, Entry>();
  private readonly refreshing = new Map<string, Promise<void>>();
  /**
   * Chains read and found without a record: a new event stream need not read the store again (the store's
   * watch refreshes a chain when its record appears, as it does a held one). Emptied past a bound: names of
   * chains nothing was published to cost at most a read each then.
   */
  private readonly absent = new Set<string>();
  /** The first read of each chain in flight: a thousand streams opening at once wait for one read. */
  private readonly firstReads = new Map<string, Promise<void>>();
  private readonly summaryListeners = new Set<(summary: RolloutSummary, environment: string) => void>();
  private readonly changeListeners = new Set<ChangeListener>();
  /** This server's report totals per chain (for the current rollout), flushed to the store each round. */
  private readonly reports = new Map<string, { rolloutId: string; aggregate: ReportAggregate; dirty: boolean }>();
  private readonly buckets = new Map<string, { tokens: number; at: number }>();
  /** The latest hold of each chain as this server decided it (the store keeps holds only when they change). */
  private readonly lastHold = new Map<string, RolloutDecisionRecord>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  /** Chains whose decision is under way: a slow gate query holds its own chain, never another's. */
  private readonly deciding = new Map<string, Promise<void>>();
  /** Chains checked on their reports alone while their decision waits for Prometheus. */
  private readonly checking = new Map<string, Promise<void>>();
  /** Ends the gate queries in flight when the server closes. */
  private readonly stopping = new AbortController();
  private unwatch: () => void = () => undefined;
  private closed = false;

  constructor(
    private readonly store: SnapshotStore,
    private readonly cache: EnvironmentCache,
    private readonly reader: StoreReader,
    private readonly clients: ClientTracker,
    private readonly log: LogFn,
    private readonly server: string,
    readonly config: RolloutConfig | null,
  ) {}

  /** Loads every record, follows the store's changes, and (with a rollout key) starts the decision loop. */
  async start(): Promise<void> {
    this.unwatch = this.store.watchRollouts((key) => void this.refresh(key));
    const keys = await this.store.rollouts().catch((e: unknown) => {
      this.log("warn", "cannot list the rollouts in the store", { error: (e as Error).message });
      return [] as string[];
    });
    await Promise.all(keys.map((k) => this.refresh(k)));
    if (this.config !== null) {
      this.timer = setInterval(() => {
        this.running ??= this.round().finally(() => (this.running = null));
      }, this.config.intervalMs);
      this.timer.unref();
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.unwatch();
    this.stopping.abort();
    await this.running;
    await Promise.all([...this.deciding.values(), ...this.checking.values()]);
  }

  /** `rollout` events for `GET /v1/events`; returns the unsubscribe. */
  subscribe(listener: (summary: RolloutSummary, environment: string) => void): () => void {
    this.summaryListeners.add(listener);
    return () => this.summaryListeners.delete(listener);
  }

  /**
   * The changes this server decided (it won the compare-and-swap of the record), as they are announced to the
   * webhooks: each change reaches one server's listeners, whichever server made it. Returns the unsubscribe.
   */
  onChange(listener: ChangeListener): () => void {
    this.changeListeners.add(listener);
    return () => this.changeListeners.delete(listener);
  }

  /** The chain's current plan frame for a new event stream, or null (no rollout ever). */
  planFrame(key: string): string | null {
    return this.entries.get(key)?.frame ?? null;
  }

  /** The chain's record as this server holds it, loaded from the store on first use. */
  async current(key: string): Promise<Entry | null> {
    if (!this.entries.has(key) && !this.absent.has(key)) {
      let read = this.firstReads.get(key);
      if (read === undefined) {
        read = this.refresh(key).finally(() => this.firstReads.delete(key));
        this.firstReads.set(key, read);
      }
      await read;
    }
    return this.entries.get(key) ?? null;
  }

  /**
   * Re-reads a chain's record and, when it is newer than the one held, announces its plan on the chain's
   * event streams and its summary on `GET /v1/events`. Serialized per chain.
   */
  refresh(key: string): Promise<void> {
    const previous = this.refreshing.get(key) ?? Promise.resolve();
    const next = previous.then(async () => {
      if (this.closed) return;
      let stored: StoredRollout | null;
      try {
        stored = await this.store.readRollout(key);
      } catch (e) {
        this.log("warn", "cannot read a rollout from the store", { chain: key, error: (e as Error).message });
        return;
      }
      if (stored !== null) {
        this.absent.delete(key);
        this.accept(key, stored);
      } else if (!this.entries.has(key)) {
        if (this.absent.size >= MAX_ABSENT_CHAINS) this.absent.clear();
        this.absent.add(key);
      }
    });
    const settled = next.catch(() => undefined);
    this.refreshing.set(key, settled);
    void settled.then(() => {
      if (this.refreshing.get(key) === settled) this.refreshing.delete(key);
    });
    return next;
  }

  /** Takes a record read or written: held, and announced when it is newer than the one held. */
  private accept(key: string, stored: StoredRollout): void {
    const held = this.entries.get(key);
    if (held !== undefined && held.stored.revision === stored.revision) return;
    const record = parseRecord(stored.text);
    if (record === null) {
      this.log("error", "the rollout record in the store is not one", { chain: key });
      return;
    }
    if (held !== undefined && record.planVersion < held.record.planVersion) return;
    if (held !== undefined && record.planVersion === held.record.planVersion) {
      // The same plan with newer decisions (a hold the loop recorded): held, nothing to announce.
      if ((record.decisions[0]?.at ?? "") >= (held.record.decisions[0]?.at ?? ""))
        this.entries.set(key, { ...held, stored, record });
      return;
    }
    const entry: Entry = {
      stored,
      record,
      body: Buffer.from(record.plan, "utf8"),
      etag: `"${record.digest}"`,
      frame: formatPlanEvent(record.plan),
    };
    this.entries.set(key, entry);
    this.cache.announce(key, entry.frame);
    const summary = summaryOf(record);
    for (const l of [...this.summaryListeners]) l(summary, record.state.environment);
  }

  /** The policy of a chain: a service's own (strata.yaml `rollouts.services`), else its environment's. */
  private policyOf(environment: string, service: string | null): RolloutPolicy {
    const config = this.config;
    if (config === null) return DEFAULT_POLICY;
    return policyFor(config.settings, config.chains.get(environment) ?? [environment], service);
  }

  /**
   * Called by the publish of version N on a chain, after every check and before the store moves the head.
   * When the environment's policy is not all-at-once (or a rollout is under way on the chain), it starts a
   * rollout from the version everyone runs, signs its first plan and stores it, so that no server announces
   * N before the plan naming it. A freeze refuses the push (409 `rollout-frozen`) unless it is an emergency.
   * Null: nothing to do (the publish goes ahead as before).
   */
  async beforePublish(input: {
    chain: Chain;
    snapshot: Snapshot;
    /** The chain's current version (its snapshot text), or null for the first. */
    previous: { version: number; digest: string; text: Buffer } | null;
    actor: string | null;
  }): Promise<PublishTicket | null> {
    const { chain, snapshot, previous } = input;
    const config = this.config;
    if (config === null || previous === null) return null;
    const key = chainKey(chain);
    const policy = this.policyOf(chain.environment, chain.service);
    const held = await this.current(key);
    if (policy.strategy.kind === "all-at-once" && policy.freeze.length === 0 && held === null)
      return this.allAtOnce(chain, snapshot, previous, input.actor);
    const now = Date.now();
    const planVersion = (held?.record.planVersion ?? 0) + 1;
    // A new rollout starts from what everyone runs: the last one's candidate once promoted, else its stable.
    const last = held?.record.state ?? null;
    const stable =
      last === null || last.phase === "promoted"
        ? (last?.candidate ?? { version: previous.version, digest: previous.digest })
        : last.stable;
    const rolloutId = rolloutIdFor(chain.environment, chain.service, snapshot.version, planVersion);
    const started = startRollout({
      policy,
      rolloutId,
      environment: chain.environment,
      service: chain.service,
      stable,
      candidate: { version: snapshot.version, digest: snapshot.digest },
      now,
      emergency: snapshot.source.emergency === true,
    });
    if (!started.ok) {
      this.log("warn", "push refused: changes are frozen", {
        environment: chain.environment,
        ...(chain.service === null ? {} : { service: chain.service }),
        version: snapshot.version,
        reason: started.reason,
        token: input.actor,
      });
      throw new HttpError(409, "rollout-frozen", `${started.reason}: push with the emergency path to override`, {
        until: new Date(started.until).toISOString(),
      });
    }
    // All at once with nothing under way (a freeze was checked and lifted): no plan needed.
    if (started.state.phase === "promoted" && held === null)
      return this.allAtOnce(chain, snapshot, previous, input.actor);
    const stableConfig = await this.configOf(key, stable.version, previous);
    const keys = changedKeyPaths(stableConfig, snapshot.config as Record<string, JsonObject>);
    const decision: RolloutDecisionRecord = {
      at: new Date(now).toISOString(),
      action: "start",
      reason: started.state.reason,
      actor: input.actor ?? LOOP_ACTOR,
      evaluations: [],
      planVersion,
    };
    const source = sourceOf(snapshot);
    const record = this.makeRecord(started.state, planVersion, now, [decision, ...(held?.record.decisions ?? [])], {
      keys,
      source,
    });
    const entry = auditEntryOf(decision, started.state, held?.record.decisions[0]);
    const written = await this.store.writeRollout(
      key,
      JSON.stringify(record),
      held?.stored.revision ?? null,
      entry === null ? undefined : JSON.stringify(entry),
    );
    if (written === null)
      throw new HttpError(409, "version-conflict", `another server changed the rollout of ${chainLabel(chain)}: retry`);
    this.audit(decision, started.state);
    this.accept(key, written);
    return {
      published: () => {
        this.reports.delete(key);
        this.emitChange(started.state.phase === "promoted" ? "published" : "rollout-started", record, input.actor);
      },
      lost: async () => {
        // The version never became current: a plan naming it must not stay. Abort it (a new plan version, so
        // a client that saw the first refuses nothing), sending everyone to the stable version.
        const aborted = operate(started.state, "abort", LOOP_ACTOR);
        if (!aborted.ok) return;
        const state = { ...aborted.state, reason: `the publish of v${snapshot.version} did not complete` };
        await this.commit(key, written, state, { action: "abort", reason: state.reason, actor: LOOP_ACTOR }).catch(
          () => undefined,
        );
      },
    };
  }

  /** A publish without a rollout: the `published` change event once it is done. */
  private allAtOnce(
    chain: Chain,
    snapshot: Snapshot,
    previous: { version: number; digest: string; text: Buffer },
    actor: string | null,
  ): PublishTicket | null {
    if ((this.config?.webhooks ?? []).length === 0) return null;
    return {
      published: () => {
        void this.configOf(chainKey(chain), previous.version, previous).then((before) => {
          const event = createChangeEvent({
            kind: "published",
            time: Date.now(),
            environment: chain.environment,
            service: chain.service,
            version: { version: snapshot.version, digest: snapshot.digest },
            previous: { version: previous.version, digest: previous.digest },
            keys: changedKeyPaths(before, snapshot.config as Record<string, JsonObject>),
            actor,
            source: sourceOf(snapshot),
          });
          this.send(event);
        });
      },
      lost: () => Promise.resolve(),
    };
  }

  private send(event: ChangeEvent): void {
    const sinks = this.config?.webhooks ?? [];
    if (sinks.length === 0) return;
    void sendChangeEvent(sinks, event).then((results) => {
      for (const r of results)
        if (!r.ok)
          this.log("warn", "a change event was not delivered", { sink: r.sink, kind: event.kind, error: r.error });
    });
  }

  /** The config of a version of a chain (for the changed key paths), or null when it cannot be read. */
  private async configOf(
    key: string,
    version: number,
    previous: { version: number; text: Buffer },
  ): Promise<Record<string, JsonObject> | null> {
    try {
      if (version === previous.version)
        return (JSON.parse(previous.text.toString("utf8")) as Snapshot).config as Record<string, JsonObject>;
      const read = await this.reader.read(key, version);
      return read === null ? null : (read.snapshot.config as Record<string, JsonObject>);
    } catch {
      return null;
    }
  }

  private makeRecord(
    state: RolloutState,
    planVersion: number,
    now: number,
    decisions: RolloutDecisionRecord[],
    extra: { keys: string[]; source: ChangeEvent["source"]; previousBoundary?: number },
  ): RolloutRecord {
    const config = this.config!;
    const plan = createPlan(
      {
        state,
        planVersion,
        now,
        ttlMs: config.planTtlMs ?? DEFAULT_PLAN_TTL_MS,
        ...(FINAL_PHASES.includes(state.phase)
          ? {}
          : { instancesTo: this.boundary(state, extra.previousBoundary ?? 0) }),
      },
      [config.key],
    );
    return {
      kind: RECORD_KIND,
      state,
      planVersion,
      plan: serializePlan(plan),
      digest: plan.digest,
      expiresAt: plan.expiresAt,
      decisions: decisions.slice(0, MAX_DECISIONS),
      keys: extra.keys,
      source: extra.source,
    };
  }

  /**
   * The instance boundary for the state's share, calibrated on the clients this server's fleet records know
   * for the environment (so the share is exact to one client), never below the boundary already published.
   */
  private boundary(state: RolloutState, atLeast: number): number {
    const instances = new Set(
      this.clients
        .list()
        .filter((r) => runsChain(r, state))
        .map((r) => r.instance),
    );
    const positions = [...instances].map((instance) => cohortPosition(state.rolloutId, { instance }));
    return calibratedBoundary(positions, state.percent, atLeast);
  }

  /**
   * Stores a new state as the next plan version (compare-and-swap on `from`); the record written, or null
   * when another server changed it first.
   */
  private async commit(
    key: string,
    from: StoredRollout,
    state: RolloutState,
    d: Omit<RolloutDecisionRecord, "at" | "planVersion" | "evaluations"> & {
      evaluations?: RolloutDecisionRecord["evaluations"];
    },
    now = Date.now(),
    options: { keepPlan?: boolean } = {},
  ): Promise<RolloutRecord | null> {
    const old = parseRecord(from.text)!;
    const planVersion = options.keepPlan === true ? old.planVersion : old.planVersion + 1;
    const decision: RolloutDecisionRecord = {
      evaluations: [],
      ...d,
      at: new Date(now).toISOString(),
      planVersion,
    };
    const oldPlan = JSON.parse(old.plan) as { cohort: { instances: [number, number] } };
    const record =
      options.keepPlan === true
        ? { ...old, decisions: [decision, ...old.decisions].slice(0, MAX_DECISIONS) }
        : this.makeRecord(state, planVersion, now, [decision, ...old.decisions], {
            keys: old.keys,
            source: old.source,
            previousBoundary: old.state.rolloutId === state.rolloutId ? oldPlan.cohort.instances[1] : 0,
          });
    const entry = auditEntryOf(decision, state, old.decisions[0]);
    const written = await this.store.writeRollout(
      key,
      JSON.stringify(record),
      from.revision,
      entry === null ? undefined : JSON.stringify(entry),
    );
    if (written === null) return null;
    // Recorded once stored (the store's watch may announce the plan to the streams a moment earlier).
    if (options.keepPlan !== true) this.audit(decision, state);
    this.accept(key, written);
    return record;
  }

  /** A decision in the server's JSON log, with everything the status shows (the audit document: audit.ts). */
  private audit(d: RolloutDecisionRecord, state: RolloutState): void {
    this.log("info", "rollout", {
      environment: state.environment,
      ...(state.service === null ? {} : { service: state.service }),
      rollout: state.rolloutId,
      action: d.action,
      phase: state.phase,
      percent: state.percent,
      planVersion: d.planVersion,
      actor: d.actor,
      reason: d.reason,
      ...(d.breaches
        ? {
            breaches: d.breaches.map((b) => ({
              gate: b.gate,
              metric: b.metric,
              value: b.value,
              control: b.control,
              threshold: b.threshold,
              interval: b.interval,
              samples: b.samples,
              window: b.window,
            })),
          }
        : {}),
    });
  }

  /** Change events to the webhooks, not awaited: a slow receiver never holds a decision. */
  private emitChange(kind: ChangeEventKind, record: RolloutRecord, actor: string | null): void {
    for (const l of [...this.changeListeners]) l(kind, record, actor);
    const sinks = this.config?.webhooks ?? [];
    if (sinks.length === 0) return;
    const { state } = record;
    const event =
      kind === "published"
        ? createChangeEvent({
            kind,
            time: Date.now(),
            environment: state.environment,
            service: state.service,
            version: state.candidate,
            previous: state.stable,
            keys: record.keys,
            actor,
            reason: state.reason,
            source: record.source,
          })
        : rolloutEvent(kind, state, {
            time: Date.now(),
            planVersion: record.planVersion,
            keys: record.keys,
            actor,
            source: record.source,
          });
    this.send(event);
  }

  /** `POST {chain}/rollout/{action}`. */
  async act(chain: Chain, action: OperatorAction, actor: string, reason?: string): Promise<RolloutStatusDocument> {
    if (this.config === null)
      throw new HttpError(409, "rollout-conflict", "this server runs no rollouts: start it with --rollout-key");
    const key = chainKey(chain);
    for (let attempt = 0; attempt < 5; attempt++) {
      await this.refresh(key);
      const held = this.entries.get(key);
      if (held === undefined)
        throw new HttpError(409, "rollout-conflict", `${chainLabel(chain)} has no rollout to ${action}`);
      const result = operate(held.record.state, action, actor);
      if (!result.ok) throw new HttpError(409, "rollout-conflict", `cannot ${action}: ${result.reason}`);
      const state =
        reason === undefined || reason === ""
          ? result.state
          : { ...result.state, reason: `${result.state.reason}: ${reason.slice(0, 200)}` };
      const record = await this.commit(key, held.stored, state, { action, reason: state.reason, actor });
      if (record === null) continue;
      const kinds: Record<OperatorAction, ChangeEventKind> = {
        pause: "rollout-paused",
        resume: "rollout-resumed",
        abort: "rollout-aborted",
        promote: "rollout-promoted",
      };
      this.emitChange(kinds[action], record, actor);
      return this.status(chain);
    }
    throw new HttpError(409, "rollout-conflict", "the rollout kept changing: retry");
  }

  /**
   * `POST {chain}/reports`: checks each report and adds it to this server's totals; a batch for a chain with
   * no live rollout is accepted and dropped (the SDK reports all the time). `client` names the caller for
   * the rate limit.
   */
  async addReports(chain: Chain, body: unknown, client: string): Promise<HealthReportAnswer> {
    // Checked as a HealthReportBatch: an object whose `reports` is a list (each report on its own, below).
    const reports = (body as Partial<Record<keyof HealthReportBatch, unknown>> | null)?.reports;
    if (body === null || typeof body !== "object" || Array.isArray(body) || !Array.isArray(reports))
      throw new HttpError(400, "invalid-argument", 'the body is {"reports": [...]}');
    if (reports.length > MAX_REPORTS_PER_BATCH)
      throw new HttpError(413, "payload-too-large", `at most ${MAX_REPORTS_PER_BATCH} reports in one batch`);
    const now = Date.now();
    const checked = reports.map((r) => parseHealthReport(r));
    const instances = new Set(checked.flatMap((c) => (c.ok ? [c.report.instance] : [])));
    for (const instance of instances.size === 0 ? [""] : instances) this.take(`${client}\u0000${instance}`, now);
    const key = chainKey(chain);
    const held = await this.current(key);
    const state = held?.record.state;
    const live = state !== undefined && !FINAL_PHASES.includes(state.phase);
    let totals = this.reports.get(key);
    if (live && (totals === undefined || totals.rolloutId !== state.rolloutId))
      this.reports.set(key, (totals = { rolloutId: state.rolloutId, aggregate: emptyAggregate(), dirty: false }));
    const answer: HealthReportAnswer = { accepted: 0, refused: [] };
    checked.forEach((c, index) => {
      if (!c.ok) return void answer.refused.push({ index, problem: c.problem });
      answer.accepted++;
      if (live && totals !== undefined) {
        addReport(totals.aggregate, c.report, now);
        totals.dirty = true;
      }
    });
    return answer;
  }

  /** One report batch per instance: a token bucket, 429 with Retry-After when empty. */
  private take(bucketKey: string, now: number): void {
    let b = this.buckets.get(bucketKey);
    if (b === undefined) {
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value!);
      b = { tokens: REPORT_BURST, at: now };
    } else this.buckets.delete(bucketKey);
    b.tokens = Math.min(REPORT_BURST, b.tokens + ((now - b.at) / 1000) * REPORT_PER_SECOND);
    b.at = now;
    this.buckets.set(bucketKey, b);
    if (b.tokens < 1)
      throw new HttpError(429, "rate-limited", "too many report batches: one a second on average per instance", {
        retryAfter: Math.ceil((1 - b.tokens) / REPORT_PER_SECOND),
      });
    b.tokens -= 1;
  }

  /** Every server's totals of the chain's rollout, added up. */
  private async aggregateOf(key: string, rolloutId: string): Promise<ReportAggregate> {
    const parts: ReportAggregate[] = [];
    for (const text of await this.store.listRolloutReports(key)) {
      const doc = parseSharedReports(text);
      if (doc !== null && doc.rolloutId === rolloutId && doc.server !== this.server) parts.push(doc.aggregate);
    }
    const own = this.reports.get(key);
    if (own !== undefined && own.rolloutId === rolloutId) parts.push(own.aggregate);
    return mergeAggregates(parts);
  }

  /** One round of the decision loop over every chain this server knows a rollout of. */
  async round(now = Date.now()): Promise<void> {
    if (this.config === null || this.closed) return;
    await this.flushReports();
    // Each chain on its own, not awaited: a slow gate query holds up no other chain. A chain whose decision
    // still waits for Prometheus is checked on its reports alone: a breach they show rolls back all the same.
    for (const key of [...this.entries.keys()]) {
      const full = !this.deciding.has(key);
      const running = full ? this.deciding : this.checking;
      if (running.has(key)) continue;
      const deciding = this.decideChain(key, now, full)
        .catch((e: unknown) => {
          this.log("error", "the rollout loop failed on a chain", { chain: key, error: (e as Error).message });
        })
        .finally(() => running.delete(key));
      running.set(key, deciding);
    }
  }

  private async flushReports(): Promise<void> {
    for (const [key, totals] of this.reports) {
      if (!totals.dirty) continue;
      const doc: SharedReports = {
        server: this.server,
        rolloutId: totals.rolloutId,
        writtenAt: new Date().toISOString(),
        aggregate: totals.aggregate,
      };
      try {
        await this.store.putRolloutReports(key, this.server, JSON.stringify(doc));
        totals.dirty = false;
      } catch (e) {
        this.log("warn", "cannot share the health reports through the store", {
          chain: key,
          error: (e as Error).message,
        });
      }
    }
  }

  /** One chain's decision; with `queryPrometheus` false, only a rollback the reports' gates show is made. */
  private async decideChain(key: string, now: number, queryPrometheus = true): Promise<void> {
    await this.refresh(key);
    const held = this.entries.get(key);
    if (held === undefined) return;
    const { record, stored } = held;
    const { state } = record;
    const ttl = this.config!.planTtlMs ?? DEFAULT_PLAN_TTL_MS;
    if (FINAL_PHASES.includes(state.phase)) {
      if (!queryPrometheus) return;
      // A finished rollout's plan stays the chain's until the next publish: renewed before it expires.
      if (Date.parse(record.expiresAt) - now < ttl / 2)
        await this.commit(key, stored, state, { action: "none", reason: "plan renewed", actor: LOOP_ACTOR }, now);
      return;
    }
    const policy = this.policyOf(state.environment, state.service);
    // The reports' gates first: a breach they show rolls back without waiting for Prometheus, which may be
    // slow or down exactly when something is wrong. Otherwise the Prometheus gates are queried, and decide.
    const signals = await this.signals(key, state, policy);
    let decision = decide({ policy, state, now, signals });
    if (decision.action !== "rollback" && policy.gates.some((g) => g.metric === "prometheus")) {
      if (!queryPrometheus) return;
      Object.assign(signals, await this.prometheusSignals(state, policy, now));
      decision = decide({ policy, state, now, signals });
    }
    if (decision.action === "hold" || decision.action === "none") {
      const d = decisionRecord(decision, record.planVersion, now);
      this.lastHold.set(key, d);
      const renew = Date.parse(record.expiresAt) - now < ttl / 2;
      // Stored when what holds it changes (not every round: the store is not a clock); the plan is renewed
      // before it expires.
      if (renew || holdSignature(record.decisions[0]) !== holdSignature(d))
        await this.commit(key, stored, state, { ...d, actor: LOOP_ACTOR }, now, { keepPlan: !renew });
      return;
    }
    const next = applyDecision(state, decision, now);
    const written = await this.commit(
      key,
      stored,
      next,
      {
        action: decision.action,
        reason: decision.reason,
        actor: LOOP_ACTOR,
        evaluations: decision.evaluations,
        ...(decision.action === "rollback" ? { breaches: decision.breaches } : {}),
      },
      now,
    );
    if (written === null) return; // another server decided first: its record arrives through the watch
    this.lastHold.delete(key);
    const kinds = {
      advance: "rollout-advanced",
      promote: "rollout-promoted",
      rollback: "rollout-rolled-back",
    } as const;
    this.emitChange(kinds[decision.action], written, LOOP_ACTOR);
  }

  /** The report gates' signals; the Prometheus gates' are "not queried" until prometheusSignals. */
  private async signals(key: string, state: RolloutState, policy: RolloutPolicy): Promise<Record<string, GateSignal>> {
    const aggregate = await this.aggregateOf(key, state.rolloutId);
    const versions = { stable: state.stable.version, candidate: state.candidate.version };
    const signals = reportSignals(aggregate, policy.gates, versions);
    for (const gate of policy.gates)
      if (gate.metric === "prometheus")
        signals[gate.name] = {
          kind: "unavailable",
          reason: "no-data",
          detail: `${gate.name}: not queried (another gate breached)`,
        };
    return signals;
  }

  private async prometheusSignals(
    state: RolloutState,
    policy: RolloutPolicy,
    now: number,
  ): Promise<Record<string, GateSignal>> {
    const signals: Record<string, GateSignal> = {};
    const prometheus = this.config!.prometheus;
    for (const gate of policy.gates) {
      if (gate.metric !== "prometheus") continue;
      signals[gate.name] =
        prometheus === null
          ? { kind: "unavailable", reason: "query-failed", detail: `${gate.name}: strata serve has no --prometheus` }
          : await prometheusGateSignal(prometheus, gate, {
              environment: state.environment,
              service: state.service,
              candidateVersion: state.candidate.version,
              stableVersion: state.stable.version,
              from: state.startedAt,
              at: now,
              signal: this.stopping.signal,
            });
    }
    return signals;
  }

  /** `GET {chain}/rollout`. */
  async status(chain: Chain): Promise<RolloutStatusDocument> {
    const key = chainKey(chain);
    const held = await this.current(key);
    const policy = this.policyOf(chain.environment, chain.service);
    const doc: RolloutStatusDocument = {
      environment: chain.environment,
      service: chain.service,
      policy: describePolicy(policy),
      state: null,
      plan: null,
      decisions: [],
      cohorts: { stable: null, candidate: null },
      clients: { stable: 0, candidate: 0, other: 0 },
      refusals: [],
    };
    if (held === undefined || held === null) return doc;
    const { record } = held;
    const { state } = record;
    doc.state = state;
    doc.plan = { planVersion: record.planVersion, digest: record.digest, expiresAt: record.expiresAt };
    const hold = this.lastHold.get(key);
    doc.decisions =
      hold !== undefined && hold.planVersion === record.planVersion && hold.at > (record.decisions[0]?.at ?? "")
        ? [hold, ...record.decisions.filter((d) => d !== record.decisions[0] || d.action !== "hold")]
        : record.decisions;
    const aggregate = await this.aggregateOf(key, state.rolloutId).catch(() => emptyAggregate());
    doc.cohorts = {
      stable: cohortHealth(aggregate, state.stable.version),
      candidate: cohortHealth(aggregate, state.candidate.version),
    };
    const plan = JSON.parse(record.plan) as Parameters<typeof versionFor>[0];
    doc.refusals = clientRefusals(aggregate, plan, state);
    for (const r of this.clients.list()) {
      if (!runsChain(r, state)) continue;
      const expected = versionFor(plan, { instance: r.instance }).ref.version;
      if (r.version === expected && expected === state.candidate.version) doc.clients.candidate++;
      else if (r.version === expected && expected === state.stable.version) doc.clients.stable++;
      else doc.clients.other++;
    }
    return doc;
  }
}

/**
 * Whether a client the fleet records know runs a rollout's chain: for an environment's own chain every client
 * of the environment (as before services), for a service's chain the clients that name the service.
 */
function runsChain(r: { environment: string; service: string }, state: RolloutState): boolean {
  return r.environment === state.environment && (state.service === null || r.service === state.service);
}

function sourceOf(snapshot: Snapshot): ChangeEvent["source"] {
  return {
    repository: snapshot.source.repository ?? null,
    commit: snapshot.source.commit ?? null,
    pullRequest: snapshot.source.pullRequest ?? null,
  };
}

function cohortHealth(aggregate: ReportAggregate, version: number): CohortHealth | null {
  const t = cohortTotals(aggregate, version);
  if (t.instances === 0) return null;
  return {
    version,
    instances: t.instances,
    requests: Math.round(t.rate.trials),
    errors: Math.round(t.rate.events),
    meanLatencyMs: t.latency.count > 0 ? t.latency.sum / t.latency.count : null,
    latency: t.latency.count > 0 ? { ...t.latency } : null,
  };
}

function decisionRecord(decision: Decision, planVersion: number, now: number): RolloutDecisionRecord {
  return {
    at: new Date(now).toISOString(),
    action: decision.action,
    reason: decision.reason,
    actor: LOOP_ACTOR,
    evaluations: decision.evaluations,
    ...(decision.action === "hold" ? { holds: decision.holds } : {}),
    planVersion,
  };
}

/** What a hold is about (not how long it has to go): a change of it is worth storing. */
function holdSignature(d: RolloutDecisionRecord | undefined): string {
  if (d === undefined) return "";
  return JSON.stringify([
    d.action,
    (d.holds ?? []).map((h) => [h.code, h.gate ?? null]),
    d.evaluations.map((e) => [e.gate, e.verdict, e.reason ?? null]),
  ]);
}

function summaryOf(record: RolloutRecord): RolloutSummary {
  const { state } = record;
  return {
    environment: state.environment,
    service: state.service,
    rolloutId: state.rolloutId,
    phase: state.phase,
    percent: state.percent,
    stable: state.stable,
    candidate: state.candidate,
    planVersion: record.planVersion,
    reason: state.reason,
  };
}

/** `canary 5% for 15m`, `linear 20% every 5m`, … as the status shows it. */
function describePolicy(policy: RolloutPolicy): string {
  const s = policy.strategy;
  const pct = (bp: number): string => `${bp / 100}%`;
  const dur = (ms: number): string =>
    ms % 3_600_000 === 0 ? `${ms / 3_600_000}h` : ms % 60_000 === 0 ? `${ms / 60_000}m` : `${ms / 1000}s`;
  const steps = stepPercents(s);
  const gates = policy.gates.length === 0 ? "" : `; gates ${policy.gates.map((g) => g.name).join(", ")}`;
  switch (s.kind) {
    case "all-at-once":
      return "all-at-once";
    case "canary":
      return `canary ${pct(steps[0] ?? 0)} for ${dur(s.bake)}${gates}`;
    case "linear":
      return `linear ${pct(steps[0] ?? 0)} every ${dur(s.every)}${gates}`;
    case "exponential":
      return `exponential from ${pct(steps[0] ?? 0)} every ${dur(s.every)}${gates}`;
  }
}
