/**
 * Following the endpoint: server-sent events, or long-polling where a proxy refuses or cuts them, with
 * exponential backoff and full jitter between reconnects. The follower decides what to fetch and when; every
 * snapshot it fetches goes to the accepted state, which decides whether to use it. Rollout plans come the same
 * way (a `plan` event, GET …/plan at start and with each long-poll) and go to the accepted state too.
 */
import {
  announcedVersion,
  embeddedSnapshot,
  EventStreamParser,
  INLINE_SNAPSHOT_QUERY,
  PLAN_EVENT,
  ROLLOUT_PATHS,
} from "../core/protocol/index.js";
import { MAX_VERSION } from "../core/snapshot/snapshot.js";
import { answerError, declaresNoServices, describeFailure, type Connection } from "./connection.js";
import { isRejection, StrataClientError } from "./errors.js";
import type { Emitter } from "./events.js";
import type { Lifetime } from "./lifetime.js";
import type { Settings } from "./options.js";
import type { AcceptedState, InitialAnswer } from "./state.js";

/**
 * The endpoint sends a keep-alive every 15 s: a stream that completes no event or keep-alive for longer than
 * this is dead (bytes that never finish a block, a trickle, do not keep it alive).
 */
const STREAM_IDLE_MS = 45_000;

/**
 * A client whose version in use changed tells the endpoint within this long, at a uniformly random time: a
 * fleet that switches together (a rollback reaching a thousand clients of one process at once) spreads its
 * confirmations instead of sending them all while the others are still switching. The fleet status lags by
 * as much; the switch itself does not wait for it.
 */
const CONFIRM_SPREAD_MS = 2000;

export class Follower {
  private transport: "events" | "long-poll";
  /**
   * The newest version handled, sent as `Last-Event-ID` so the endpoint replays only what came after it: a
   * version installed, or refused after its signature verified (never fetched twice). Nothing unverified
   * raises it (an event's id, the version an unsigned body claims): one forged answer would otherwise make
   * the client ignore every real publish below it.
   */
  private lastEventId = 0;
  /** A `reconnect` was reported and the endpoint has not answered since: the next answer is `reconnected`. */
  private reconnecting = false;
  /**
   * When the endpoint is to hear which version runs now (Date.now() ms, spread over CONFIRM_SPREAD_MS after
   * the version in use changed on the event stream); 0: nothing to tell.
   */
  private confirmAt = 0;

  constructor(
    private readonly settings: Settings,
    private readonly lifetime: Lifetime,
    private readonly connection: Connection,
    private readonly state: AcceptedState,
    private readonly emitter: Emitter,
  ) {
    this.transport = settings.transport;
  }

  /** The endpoint has not answered since a `reconnect` was reported. */
  get disconnected(): boolean {
    return this.reconnecting;
  }

  /** The rule for `Last-Event-ID`: it only goes up, from verified versions (the accepted state's `seen`). */
  raiseLastEventId(version: number): void {
    if (version > this.lastEventId && version <= MAX_VERSION) this.lastEventId = version;
  }

  /**
   * Tells the endpoint at once what the client refused (its `Strata-Client` header on a conditional GET of
   * the snapshot: 304 while the refused version is still the current one). Best effort: a failure is the
   * next request's to repeat.
   */
  async report(): Promise<void> {
    const rejected = this.state.rejected;
    if (rejected === null || this.lifetime.closed) return;
    const url = this.connection.url("snapshot");
    await this.connection
      .request(url, { "if-none-match": `"${rejected.version}"` }, this.settings.timeoutMs)
      .catch(() => undefined);
  }

  /** Hands a snapshot text to the accepted state; a refusal is reported to the endpoint at once. */
  private async consider(text: string): Promise<void> {
    const before = this.state.rejected;
    await this.state.consider(text);
    if (this.state.rejected !== before) await this.report();
  }

  /** A request through the connection; an answer refused before it was a snapshot (too large) is reported. */
  private async request(url: string, extra: Record<string, string>, timeoutMs: number): Promise<Response> {
    try {
      return await this.connection.request(url, extra, timeoutMs);
    } catch (e) {
      if (isRejection(e)) {
        this.state.refuse(e);
        await this.report();
      }
      throw e;
    }
  }

  /** The stream is back (an event stream opened, a long-poll answered): after a `reconnect`, `reconnected`. */
  private answered(): void {
    if (!this.reconnecting || this.lifetime.closed) return;
    this.reconnecting = false;
    this.emitter.emit("reconnected", { transport: this.transport, version: this.state.version });
  }

  /** Tries GET …/snapshot until it answers or the deadline passes, with backoff between attempts. */
  async fetchInitial(deadline: number): Promise<InitialAnswer> {
    let url = this.connection.url("snapshot");
    let attempt = 0;
    let last = "";
    while (!this.lifetime.closed) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      try {
        const res = await this.connection.request(url, {}, remaining);
        if (res.status === 200) {
          const text = await res.text();
          return { text, tried: "", ...(await this.initialPlan(deadline)) };
        }
        const error = await answerError(res, url);
        // The environment declares no services: its own snapshot is this service's (as before services).
        if (this.settings.reads.service !== null && declaresNoServices(res, error)) {
          this.settings.reads = { environment: this.settings.environment, service: null };
          url = this.connection.url("snapshot");
          continue;
        }
        // Answers that waiting will not change: a token refused, an environment the endpoint does not have.
        if (error.code !== "unreachable") throw error;
        last = error.message.slice(`GET ${url}: `.length);
      } catch (e) {
        if (isRejection(e)) return { text: null, tried: `GET ${url}: ${e.message}`, refused: e };
        if (e instanceof StrataClientError) throw e;
        last = describeFailure(e);
      }
      const delay = Math.min(this.jitter(attempt++), deadline - Date.now());
      if (delay > 0) await this.lifetime.sleep(delay);
    }
    return { text: null, tried: `GET ${url}: ${last || "no attempt"}` };
  }

  /**
   * The chain's rollout plan with the first snapshot, so that ready() resolves on the cohort's version:
   * null when the endpoint has none (404), absent when no plan is followed (no rollout keys) or it did not
   * answer (the plan cache, if any, stands).
   */
  private async initialPlan(deadline: number): Promise<{ plan?: string | null }> {
    if (this.settings.rolloutKeys.length === 0) return {};
    const answer = await this.getPlan(Math.max(1, deadline - Date.now()), null).catch(() => undefined);
    return answer === undefined || answer === "unchanged" ? {} : { plan: answer };
  }

  /** The digest of the plan last read from GET …/plan: sent as `If-None-Match`. */
  private planTag: string | null = null;

  /** GET …/plan: its text, null on 404 (no plan), "unchanged" on 304; throws on anything else. */
  private async getPlan(timeoutMs: number, etag: string | null): Promise<string | null | "unchanged"> {
    const url = this.connection.url(ROLLOUT_PATHS.plan.slice(1));
    const res = await this.connection.request(url, etag === null ? {} : { "if-none-match": `"${etag}"` }, timeoutMs);
    if (res.status === 304) return "unchanged";
    if (res.status === 404) {
      await res.body?.cancel().catch(() => undefined);
      return null;
    }
    if (res.status !== 200) throw await answerError(res, url);
    const text = await res.text();
    this.planTag = /"digest":"(sha256:[0-9a-f]{64})"/.exec(text)?.[1] ?? null;
    return text;
  }

  /** Long-polling hears no `plan` event: the plan is read after each answer (a 304 while it is the same). */
  private async pollPlan(): Promise<void> {
    if (this.settings.rolloutKeys.length === 0 || this.lifetime.closed) return;
    const answer = await this.getPlan(this.settings.timeoutMs, this.planTag);
    if (answer === "unchanged") return;
    const before = this.state.version;
    if (answer === null) this.state.dropPlan();
    else await this.state.considerPlan(answer);
    if (this.state.version !== before) await this.catchUp();
  }

  /** Follows the endpoint until the client closes. */
  async run(startedOffline: boolean): Promise<void> {
    const fixed = this.settings.fixedTransport;
    let attempt = startedOffline ? 1 : 0;
    let quietCuts = 0;
    let reason = startedOffline ? "the endpoint was unreachable at start" : "";
    if (startedOffline) {
      // After createClient() resolved: code that attaches its listeners then hears the first reconnect too.
      await this.lifetime.sleep(0);
      if (this.lifetime.closed) return;
      await this.backoff(0, reason);
    }
    while (!this.lifetime.closed) {
      let healthy = false;
      try {
        if (attempt > 0) await this.catchUp();
        if (this.transport === "events") {
          const outcome = await this.streamEvents();
          if (outcome === "unsupported") {
            if (!fixed) this.transport = "long-poll";
            healthy = !fixed;
            reason = "the endpoint refused the event stream";
          } else {
            healthy = outcome === "delivered";
            quietCuts = outcome === "silent" ? quietCuts + 1 : 0;
            reason = "the event stream ended";
            // A proxy that buffers or cuts streams: switch to long-polling rather than reconnect forever.
            if (quietCuts >= 3 && !fixed) this.transport = "long-poll";
          }
        } else {
          await this.longPoll();
          healthy = true;
        }
      } catch (e) {
        if (this.lifetime.closed) break;
        reason = describeFailure(e);
        if (e instanceof StrataClientError && !isRejection(e)) this.emitter.emit("error", e);
      }
      if (this.lifetime.closed) break;
      if (healthy) {
        attempt = 0;
        if (this.transport === "long-poll") continue;
      }
      await this.backoff(attempt++, reason);
    }
  }

  private async backoff(attempt: number, reason: string): Promise<void> {
    const delayMs = this.jitter(attempt);
    this.reconnecting = true;
    this.emitter.emit("reconnect", {
      attempt: attempt + 1,
      delayMs: Math.round(delayMs),
      transport: this.transport,
      reason,
    });
    await this.lifetime.sleep(delayMs);
  }

  /** Full jitter: uniform in [0, min(cap, base·2^attempt)), so a fleet reconnecting together spreads out. */
  private jitter(attempt: number): number {
    const { capMs, baseMs } = this.settings;
    return Math.random() * Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30));
  }

  /** After a disconnect: the current snapshot, if it is not ours (also catches an endpoint that went back). */
  private async catchUp(): Promise<void> {
    const url = this.connection.url("snapshot");
    // The head, not the version in use: a client a plan keeps on its stable version is not behind.
    const res = await this.request(url, { "if-none-match": `"${this.state.headVersion}"` }, this.settings.timeoutMs);
    if (res.status === 304) return this.state.confirmed();
    await this.consider(await this.connection.snapshotText(res, url));
  }

  private async longPoll(): Promise<void> {
    const url = `${this.connection.url("snapshot")}?wait=${this.settings.waitSeconds}`;
    // The newest version handled, not only the one in use: a refused current one is not sent again at once.
    const res = await this.request(
      url,
      { "if-none-match": `"${Math.max(this.state.headVersion, this.lastEventId)}"` },
      (this.settings.waitSeconds + 15) * 1000,
    );
    if (res.status === 200 || res.status === 304) this.answered();
    if (res.status === 304) {
      if (this.lastEventId === this.state.headVersion) this.state.confirmed();
    } else await this.consider(await this.connection.snapshotText(res, url));
    await this.pollPlan();
  }

  /**
   * One event-stream connection, until it ends. "delivered": it carried data; "silent": it ended without
   * a byte of data (a buffering proxy); "unsupported": the endpoint answered with something else.
   */
  private async streamEvents(): Promise<"delivered" | "silent" | "unsupported"> {
    // Asks for small snapshots inside the events: verified as fetched ones, without the fetch.
    const url = `${this.connection.url("events")}?${INLINE_SNAPSHOT_QUERY.name}=${INLINE_SNAPSHOT_QUERY.value}`;
    const controller = new AbortController();
    const unlink = this.lifetime.link(controller);
    let idle: NodeJS.Timeout | null = null;
    const resetIdle = (): void => {
      this.lifetime.clear(idle);
      idle = this.lifetime.timer(() => controller.abort(), STREAM_IDLE_MS);
    };
    try {
      resetIdle();
      const res = await this.settings.fetch(url, {
        headers: {
          ...this.connection.headers(),
          accept: "text/event-stream",
          "last-event-id": String(this.lastEventId),
        },
        signal: controller.signal,
      });
      if (res.status === 401 || res.status === 403) throw await answerError(res, url);
      if (
        res.status !== 200 ||
        !(res.headers.get("content-type") ?? "").startsWith("text/event-stream") ||
        res.body === null
      ) {
        await res.body?.cancel().catch(() => undefined);
        return res.status >= 500 ? "silent" : "unsupported";
      }
      this.answered();
      const parser = new EventStreamParser();
      const decoder = new TextDecoder();
      const reader = res.body.getReader();
      let reading: ReturnType<typeof reader.read> | null = null;
      try {
        for (;;) {
          reading ??= reader.read();
          if (this.confirmAt > 0 && !(await this.readsFirst(reading, this.confirmAt))) {
            // Unless close() sent it meanwhile.
            if (this.confirmAt === 0) continue;
            this.confirmAt = 0;
            await this.confirmRunning();
            continue;
          }
          const { value, done } = await reading;
          reading = null;
          if (done || this.lifetime.closed) break;
          const blocks = parser.blocks;
          // Several events in one read (a replay after reconnecting): only the newest needs fetching. Ids
          // above the version bound are no version strata publishes: not fetched.
          let newest = 0;
          let plan: string | null = null;
          let carried: string | null = null;
          for (const event of parser.push(decoder.decode(value, { stream: true }))) {
            if (event.event === PLAN_EVENT) plan = event.data;
            const announced = announcedVersion(event);
            if (announced <= MAX_VERSION && announced > newest) {
              newest = announced;
              carried = embeddedSnapshot(event);
            }
          }
          if (parser.blocks !== blocks) resetIdle();
          const before = this.state.version;
          // The plan first: it comes before the snapshot event of its candidate, which it fetches (once
          // verified), so a client it keeps on the stable version never runs the candidate in between.
          if (plan !== null) await this.state.considerPlan(plan);
          if (newest > this.lastEventId) {
            // A snapshot the event carries is verified exactly as a fetched one; within the same body bound.
            if (carried !== null && Buffer.byteLength(carried) <= this.settings.maxBodyBytes)
              await this.consider(carried);
            else await this.fetchVersion(newest);
          }
          // A version that came and went before the confirmation's turn needs none of its own: the one due
          // says what runs then. An earlier turn is kept (a stream of changes does not postpone it forever).
          if (this.state.version !== before && this.confirmAt === 0)
            this.confirmAt = Date.now() + Math.random() * CONFIRM_SPREAD_MS;
        }
      } finally {
        await reader.cancel().catch(() => undefined);
      }
      return parser.blocks > 0 ? "delivered" : "silent";
    } finally {
      this.lifetime.clear(idle);
      unlink();
    }
  }

  /**
   * A client closing with a confirmation due sends it first (a conditional GET, at most a second): a process
   * that switched and then stopped at once still tells the endpoint which version it ran last.
   */
  async confirmBeforeClose(): Promise<void> {
    if (this.confirmAt === 0 || this.lifetime.closed) return;
    this.confirmAt = 0;
    const url = this.connection.url("snapshot");
    const res = await this.connection
      .request(url, { "if-none-match": `"${this.state.headVersion}"` }, Math.min(this.settings.timeoutMs, 1000))
      .catch(() => null);
    await res?.body?.cancel().catch(() => undefined);
  }

  /** True when the stream's next read settles before `at` (Date.now() ms); false once `at` comes first. */
  private async readsFirst(reading: Promise<unknown>, at: number): Promise<boolean> {
    let timer: NodeJS.Timeout | null = null;
    const turn = new Promise<false>((resolve) => {
      timer = this.lifetime.timer(() => resolve(false), at - Date.now());
    });
    try {
      return await Promise.race([reading.then(() => true), turn]);
    } finally {
      this.lifetime.clear(timer);
    }
  }

  /**
   * Tells the endpoint which version runs now (the fleet status reads it from a snapshot request's
   * `Strata-Client` header): a conditional GET, 304 unless something newer arrived meanwhile.
   */
  private async confirmRunning(): Promise<void> {
    let before = -1;
    while (this.state.version !== before && !this.lifetime.closed) {
      before = this.state.version;
      await this.catchUp();
    }
  }

  /** Fetches an announced version; only the accepted state's verdict raises `Last-Event-ID` (its `seen` hook). */
  private async fetchVersion(version: number): Promise<void> {
    await this.consider(await this.versionText(version));
  }

  /** The text of `snapshots/{version}` (for the accepted state, when a plan names a version it does not hold). */
  async versionText(version: number): Promise<string> {
    const url = this.connection.url(`snapshots/${version}`);
    const res = await this.request(url, {}, this.settings.timeoutMs);
    return this.connection.snapshotText(res, url);
  }
}
