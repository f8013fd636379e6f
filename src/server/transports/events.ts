/**
 * Server-sent events. `GET /v1/environments/{env}/events` (the SDK's): on connect the current version (or,
 * with `Last-Event-ID: n`, every version after n), then one frame per new version, and a comment every 15 s
 * so proxies keep the stream open. `GET /v1/events` (the dashboard's, one per browser tab): every environment
 * the caller may read, the fleet records as they change, and a heartbeat event. The frames are the
 * protocol's (core/protocol/events.ts).
 */
import type { ServerResponse } from "node:http";
import { isStrataError } from "../../core/findings.js";
import { parseChainKey } from "../../core/protocol/chains.js";
import {
  EMBEDDED_SNAPSHOT_MAX_BYTES,
  formatRolloutEvent,
  formatSnapshotEvent,
  formatStreamEvent,
  INLINE_SNAPSHOT_QUERY,
  KEEP_ALIVE_FRAME,
  RETRY_FRAME,
  type HeartbeatEventData,
  type SnapshotEventData,
} from "../../core/protocol/index.js";
import { mayRead } from "../auth.js";
import { nothingPublished, requestChain, type ChainHandler } from "../chains.js";
import { cacheControl, type Handlers, type RequestContext } from "../dispatch.js";
import type { Current } from "../environments.js";
import type { LogFn } from "../log.js";
import type { EndpointParts } from "../parts.js";

/**
 * How far behind its reader a stream may fall, in bytes Node holds beyond the kernel's socket buffers (see
 * {@link send}): eight of the largest frames (a snapshot inside its event is at most 64 KiB, twice that once
 * escaped as a JSON string). A reader that keeps up on average never comes near it.
 */
const MAX_UNREAD_BYTES = 8 * 2 * EMBEDDED_SNAPSHOT_MAX_BYTES;

/**
 * One timer for every open chain stream of the server, instead of one per stream: a fleet's idle streams
 * cost no timer each, and the keep-alive is one buffer written to all of them.
 */
class KeepAlive {
  private readonly streams = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  private readonly frame = Buffer.from(KEEP_ALIVE_FRAME);

  constructor(
    private readonly intervalMs: number,
    private readonly log: LogFn,
  ) {}

  add(res: ServerResponse): void {
    this.streams.add(res);
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      for (const r of this.streams) send(r, this.frame, this.log);
    }, this.intervalMs);
    this.timer.unref();
  }

  delete(res: ServerResponse): void {
    this.streams.delete(res);
    if (this.streams.size > 0 || this.timer === null) return;
    clearInterval(this.timer);
    this.timer = null;
  }
}

/**
 * One open chain stream (`GET …/events`): its state, and the subscriber the chain's cache calls. One object
 * with methods rather than a closure per callback: an idle stream of a fleet costs this object and Node's own
 * connection state, nothing more.
 */
class ChainStream {
  /** The newest version written: versions go out in order, each once. */
  private written = 0;
  /** While the current plan and version (or the history after Last-Event-ID) are being written. */
  private replaying = true;
  /** A version that became current during the replay: written after it. */
  private arrived: Current | null = null;
  private planSent: string | null = null;

  constructor(
    private readonly res: ServerResponse,
    /** The client asked for the snapshot inside the event. */
    private readonly inline: boolean,
    private readonly log: LogFn,
  ) {}

  frameOf(c: Current): Buffer {
    return this.inline ? c.frameWithSnapshot : c.frame;
  }

  write(version: number, frame: string | Buffer): void {
    if (version <= this.written) return;
    if (send(this.res, frame, this.log)) this.written = version;
  }

  /** The chain's rollout plan travels before the versions it names: the current one first, then each new one. */
  writePlan(frame: string | null): void {
    if (frame === null || frame === this.planSent) return;
    if (send(this.res, frame, this.log)) this.planSent = frame;
  }

  /** The replay is written: the newest plan, and a version that arrived meanwhile, go out now. */
  endReplay(plan: string | null): void {
    this.replaying = false;
    this.writePlan(plan);
    const late = this.arrived;
    if (late !== null) this.write(late.head.version, this.frameOf(late));
  }

  onVersion(c: Current): void {
    if (this.replaying) this.arrived = c;
    else this.write(c.head.version, this.frameOf(c));
  }

  onPlan(frame: string): void {
    if (!this.replaying) this.writePlan(frame);
  }

  onClose(): void {
    this.res.end();
  }
}

/**
 * The head of an event stream. Its body ends when the connection does (`Connection: close`, no chunked
 * framing): a stream has no end of its own to mark, and without chunk framing a frame is one write of a
 * buffer shared by every stream (Node frames each chunk of a chunked body with writes of its own), which a
 * publish makes once per open stream.
 */
function openStream(ctx: RequestContext<unknown>, res: ServerResponse): void {
  ctx.streaming = true;
  // Node frames a body of unknown length in chunks unless Transfer-Encoding is removed.
  res.removeHeader("transfer-encoding");
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": cacheControl(ctx, "no-cache"),
    connection: "close",
    "x-accel-buffering": "no",
  });
  res.write(RETRY_FRAME);
}

/**
 * Writes a frame to an open stream; a stream whose reader has fallen more than MAX_UNREAD_BYTES behind
 * (what the kernel's socket buffers cannot hold, kept by Node) is closed instead: a client that stopped reading
 * would otherwise hold every later frame in the server's memory. A client that reconnects catches up from
 * its Last-Event-ID. Returns whether the frame was written.
 */
function send(res: ServerResponse, frame: string | Buffer, log: LogFn): boolean {
  if (res.writableEnded || res.destroyed) return false;
  if (res.writableLength > MAX_UNREAD_BYTES) {
    log("warn", "event stream closed: its reader fell behind", {
      path: res.req.url?.split("?")[0],
      unreadBytes: res.writableLength,
    });
    res.destroy();
    return false;
  }
  res.write(frame);
  return true;
}

export function eventStreamHandlers(
  parts: EndpointParts,
): Pick<Handlers, "GET events" | "GET service-events" | "GET all-events"> {
  const { cache, watchers } = parts;
  const keepAlive = new KeepAlive(parts.heartbeatMs, parts.log);
  const allEvents: Handlers["GET all-events"] = async (ctx) => {
    const { res, grant } = ctx;
    openStream(ctx, res);
    if (parts.closing()) return void res.end();
    const write = (frame: string): void => void send(res, frame, parts.log);
    const snapshotData = (environment: string, c: Current): SnapshotEventData => ({
      environment,
      version: c.head.version,
      digest: c.head.digest,
    });
    // Newer versions only, each once per environment: one published while the current ones are read is
    // written after them.
    const written = new Map<string, number>();
    const writeVersion = (environment: string, c: Current): void => {
      if ((written.get(environment) ?? 0) >= c.head.version) return;
      written.set(environment, c.head.version);
      write(formatStreamEvent("snapshot", snapshotData(environment, c)));
    };
    let replaying = true;
    const arrived: [string, Current][] = [];
    const unsubscribeVersions = cache.subscribeAll({
      onVersion: (environment, c) => {
        // Environments only: a service's chain (`env/services/svc`) is announced on its own stream.
        if (parseChainKey(environment)?.service !== null || !mayRead(grant, environment)) return;
        if (replaying) arrived.push([environment, c]);
        else writeVersion(environment, c);
      },
      onClose: () => res.end(),
    });
    const unsubscribeClients = parts.clients.subscribe((record) => {
      if (mayRead(grant, record.environment)) write(formatStreamEvent("client", record));
    });
    // Rollout changes of the environments it may read (docs/rollouts.md): as they happen, no replay.
    const unsubscribeRollouts = parts.rollouts.subscribe((summary, environment) => {
      if (mayRead(grant, environment)) write(formatRolloutEvent(summary));
    });
    watchers.sse++;
    const beat = (): void =>
      write(formatStreamEvent("heartbeat", { at: new Date().toISOString() } satisfies HeartbeatEventData));
    const heartbeat = setInterval(beat, parts.heartbeatMs);
    heartbeat.unref();
    // A token revoked while the stream is open (the tokens file re-read) ends it: the page goes back to the login.
    const unrevoked = parts.auth.onRevoked(ctx.req, "token", undefined, () => res.end());
    res.once("close", () => {
      clearInterval(heartbeat);
      unrevoked();
      unsubscribeVersions();
      unsubscribeClients();
      unsubscribeRollouts();
      watchers.sse--;
    });
    try {
      const readable = (await parts.store.environments()).filter((e) => mayRead(grant, e));
      // Loaded side by side (an environment's first load reads its history to verify the head), written in
      // the store's order.
      const loaded = await Promise.all(
        readable.map((environment) =>
          cache.current(environment).catch((e: unknown) => {
            // A corrupted environment is the status answer's to report; the stream goes on with the others.
            if (!isStrataError(e)) throw e;
            return null;
          }),
        ),
      );
      readable.forEach((environment, i) => {
        const c = loaded[i];
        if (c !== null && c !== undefined) writeVersion(environment, c);
      });
    } finally {
      replaying = false;
      for (const [environment, c] of arrived.splice(0)) writeVersion(environment, c);
    }
    // The first heartbeat ends the current versions: what comes after is news.
    beat();
  };
  // The environment's stream and its services' (`…/services/{svc}/events`): the same, on the chain's key.
  const events: ChainHandler<"GET events"> = async (ctx) => {
    const { req, res } = ctx;
    const chain = requestChain(ctx.params);
    const environment = chain.key;
    const client = parts.clients.touchFrom(req, chain.environment);
    ctx.streaming = true;
    // The SDK asks for the snapshot inside the event (it then need not fetch); other readers get the short frame.
    const inline = ctx.query?.get(INLINE_SNAPSHOT_QUERY.name) === INLINE_SNAPSHOT_QUERY.value;
    const current = await cache.current(environment);
    // A service nothing is published for is not one of the environment's: 404, not a stream that never speaks.
    if (current === null && chain.service !== null) throw await nothingPublished(parts.store, chain);
    openStream(ctx, res);
    if (parts.closing()) return void res.end();
    const stream = new ChainStream(res, inline, parts.log);
    cache.subscribe(environment, stream);
    watchers.sse++;
    if (client) parts.clients.connect(client);
    keepAlive.add(res);
    // A token revoked while the stream is open (the tokens file re-read) ends it.
    const unrevoked = parts.auth.onRevoked(req, "read", chain.environment, () => res.end(), chain.service ?? undefined);
    res.on("close", () => {
      keepAlive.delete(res);
      unrevoked();
      cache.unsubscribe(environment, stream);
      watchers.sse--;
      if (client) parts.clients.disconnect(client);
    });
    const raw = req.headers["last-event-id"];
    const lastId = typeof raw !== "string" || !/^\d{1,15}$/.test(raw) ? null : Number(raw);
    try {
      await parts.rollouts.current(environment).catch(() => null);
      stream.writePlan(parts.rollouts.planFrame(environment));
      if (current !== null) {
        const version = current.head.version;
        if (lastId !== null && lastId < version - 1) {
          // Replay what the client missed, from the history, up to what it gets live.
          for (const h of await parts.store.history(environment))
            if (h.version > lastId && h.version < version)
              stream.write(
                h.version,
                formatSnapshotEvent({
                  environment: chain.environment,
                  ...(chain.service === null ? {} : { service: chain.service }),
                  version: h.version,
                  digest: h.digest,
                }),
              );
        }
        if (lastId === null || lastId < version) stream.write(version, stream.frameOf(current));
      }
    } finally {
      stream.endReplay(parts.rollouts.planFrame(environment));
    }
  };
  return { "GET events": events, "GET service-events": events, "GET all-events": allEvents };
}
