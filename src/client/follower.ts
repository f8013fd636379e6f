/**
 * Following the endpoint: server-sent events, or long-polling where a proxy refuses or cuts them, with
 * exponential backoff and full jitter between reconnects. The follower decides what to fetch and when; every
 * snapshot it fetches goes to the accepted state, which decides whether to use it.
 */
import { announcedVersion, EventStreamParser } from "../core/protocol/index.js";
import { describeFailure, describeResponse, statusCode, type Connection } from "./connection.js";
import { isRejection, StrataClientError } from "./errors.js";
import type { Emitter } from "./events.js";
import type { Lifetime } from "./lifetime.js";
import type { Settings } from "./options.js";
import type { AcceptedState, InitialAnswer } from "./state.js";

/** The endpoint sends a keep-alive every 15 s: a stream silent for longer than this is dead. */
const STREAM_IDLE_MS = 45_000;

export class Follower {
  private transport: "events" | "long-poll";
  /**
   * The newest version announced or handled, sent as `Last-Event-ID` so the endpoint replays only what came
   * after it (refused versions included: never fetched twice).
   */
  private lastEventId = 0;

  constructor(
    private readonly settings: Settings,
    private readonly lifetime: Lifetime,
    private readonly connection: Connection,
    private readonly state: AcceptedState,
    private readonly emitter: Emitter,
  ) {
    this.transport = settings.transport;
  }

  /** The rule for `Last-Event-ID`: it only goes up. */
  raiseLastEventId(version: number): void {
    if (version > this.lastEventId) this.lastEventId = version;
  }

  /** Tries GET …/snapshot until it answers or the deadline passes, with backoff between attempts. */
  async fetchInitial(deadline: number): Promise<InitialAnswer> {
    const url = this.connection.url("snapshot");
    let attempt = 0;
    let last = "";
    while (!this.lifetime.closed) {
      const remaining = deadline - Date.now();
      if (remaining <= 0) break;
      try {
        const res = await this.connection.request(url, {}, remaining);
        if (res.status === 200) return { text: await res.text(), tried: "" };
        last = await describeResponse(res);
        if (res.status === 401 || res.status === 403)
          throw new StrataClientError(res.status === 401 ? "unauthenticated" : "access-denied", `GET ${url}: ${last}`);
      } catch (e) {
        if (e instanceof StrataClientError) throw e;
        last = describeFailure(e);
      }
      const delay = Math.min(this.jitter(attempt++), deadline - Date.now());
      if (delay > 0) await this.lifetime.sleep(delay);
    }
    return { text: null, tried: `GET ${url}: ${last || "no attempt"}` };
  }

  /** Follows the endpoint until the client closes. */
  async run(startedOffline: boolean): Promise<void> {
    const fixed = this.settings.fixedTransport;
    let attempt = startedOffline ? 1 : 0;
    let quietCuts = 0;
    let reason = startedOffline ? "the endpoint was unreachable at start" : "";
    if (startedOffline) await this.backoff(0, reason);
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
    const res = await this.connection.request(
      url,
      { "if-none-match": `"${this.state.version}"` },
      this.settings.timeoutMs,
    );
    if (res.status === 304) return;
    await this.state.consider(await this.connection.snapshotText(res, url));
  }

  private async longPoll(): Promise<void> {
    const url = `${this.connection.url("snapshot")}?wait=${this.settings.waitSeconds}`;
    const res = await this.connection.request(
      url,
      { "if-none-match": `"${this.state.version}"` },
      (this.settings.waitSeconds + 15) * 1000,
    );
    if (res.status === 304) return;
    await this.state.consider(await this.connection.snapshotText(res, url));
  }

  /**
   * One event-stream connection, until it ends. "delivered": it carried data; "silent": it ended without
   * a byte of data (a buffering proxy); "unsupported": the endpoint answered with something else.
   */
  private async streamEvents(): Promise<"delivered" | "silent" | "unsupported"> {
    const url = this.connection.url("events");
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
      if (res.status === 401 || res.status === 403)
        throw new StrataClientError(statusCode(res.status), `GET ${url}: ${await describeResponse(res)}`);
      if (
        res.status !== 200 ||
        !(res.headers.get("content-type") ?? "").startsWith("text/event-stream") ||
        res.body === null
      ) {
        await res.body?.cancel().catch(() => undefined);
        return res.status >= 500 ? "silent" : "unsupported";
      }
      const parser = new EventStreamParser();
      const decoder = new TextDecoder();
      const reader = res.body.getReader();
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done || this.lifetime.closed) break;
          resetIdle();
          // Several events in one read (a replay after reconnecting): only the newest needs fetching.
          let newest = 0;
          for (const event of parser.push(decoder.decode(value, { stream: true })))
            newest = Math.max(newest, announcedVersion(event));
          if (newest > this.lastEventId) {
            let before = this.state.version;
            await this.fetchVersion(newest);
            // Tell the endpoint which version runs now (fleet status reads it from a snapshot request's
            // Strata-Client header): a conditional GET, 304 unless something newer arrived meanwhile.
            while (this.state.version !== before && !this.lifetime.closed) {
              before = this.state.version;
              await this.catchUp();
            }
          }
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

  private async fetchVersion(version: number): Promise<void> {
    const url = this.connection.url(`snapshots/${version}`);
    const res = await this.connection.request(url, {}, this.settings.timeoutMs);
    const text = await this.connection.snapshotText(res, url);
    this.raiseLastEventId(version);
    await this.state.consider(text);
  }
}
