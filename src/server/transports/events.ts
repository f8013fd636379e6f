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
import type { EndpointParts } from "../parts.js";

/**
 * One timer for every open chain stream of the server, instead of one per stream: a fleet's idle streams
 * cost no timer each, and the keep-alive is one buffer written to all of them.
 */
class KeepAlive {
  private readonly streams = new Set<ServerResponse>();
  private timer: NodeJS.Timeout | null = null;
  private readonly frame = Buffer.from(KEEP_ALIVE_FRAME);

  constructor(private readonly intervalMs: number) {}

  add(res: ServerResponse): void {
    this.streams.add(res);
    if (this.timer !== null) return;
    this.timer = setInterval(() => {
      for (const r of this.streams) if (!r.writableEnded) r.write(this.frame);
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

function openStream(ctx: RequestContext<unknown>, res: ServerResponse): void {
  ctx.streaming = true;
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": cacheControl(ctx, "no-cache"),
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  res.write(RETRY_FRAME);
}

export function eventStreamHandlers(
  parts: EndpointParts,
): Pick<Handlers, "GET events" | "GET service-events" | "GET all-events"> {
  const { cache, watchers } = parts;
  const keepAlive = new KeepAlive(parts.heartbeatMs);
  const allEvents: Handlers["GET all-events"] = async (ctx) => {
    const { res, grant } = ctx;
    openStream(ctx, res);
    if (parts.closing()) return void res.end();
    const write = (frame: string): void => {
      if (!res.writableEnded) res.write(frame);
    };
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
    const frameOf = (c: Current): Buffer => (inline ? c.frameWithSnapshot : c.frame);
    const current = await cache.current(environment);
    // A service nothing is published for is not one of the environment's: 404, not a stream that never speaks.
    if (current === null && chain.service !== null) throw await nothingPublished(parts.store, chain);
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": cacheControl(ctx, "no-cache"),
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write(RETRY_FRAME);
    if (parts.closing()) return void res.end();
    // Versions are written in order, each once: a version published while the replay is read from the
    // history is written after it.
    let written = 0;
    let replaying = true;
    let arrived: Current | null = null;
    const write = (version: number, frame: string | Buffer): void => {
      if (version <= written || res.writableEnded) return;
      res.write(frame);
      written = version;
    };
    // The chain's rollout plan travels before the versions it names: the current one first, then each new one.
    let planSent: string | null = null;
    const writePlan = (frame: string | null): void => {
      if (frame === null || frame === planSent || res.writableEnded) return;
      res.write(frame);
      planSent = frame;
    };
    const unsubscribe = cache.subscribe(environment, {
      onVersion: (c) => {
        if (replaying) arrived = c;
        else write(c.head.version, frameOf(c));
      },
      onPlan: (frame) => {
        if (!replaying) writePlan(frame);
      },
      onClose: () => res.end(),
    });
    watchers.sse++;
    if (client) parts.clients.connect(client);
    keepAlive.add(res);
    // A token revoked while the stream is open (the tokens file re-read) ends it.
    const unrevoked = parts.auth.onRevoked(req, "read", chain.environment, () => res.end(), chain.service ?? undefined);
    res.once("close", () => {
      keepAlive.delete(res);
      unrevoked();
      unsubscribe();
      watchers.sse--;
      if (client) parts.clients.disconnect(client);
    });
    const raw = req.headers["last-event-id"];
    const lastId = typeof raw !== "string" || !/^\d{1,15}$/.test(raw) ? null : Number(raw);
    try {
      await parts.rollouts.current(environment).catch(() => null);
      writePlan(parts.rollouts.planFrame(environment));
      if (current !== null) {
        const version = current.head.version;
        if (lastId !== null && lastId < version - 1) {
          // Replay what the client missed, from the history, up to what it gets live.
          for (const h of await parts.store.history(environment))
            if (h.version > lastId && h.version < version)
              write(
                h.version,
                formatSnapshotEvent({
                  environment: chain.environment,
                  ...(chain.service === null ? {} : { service: chain.service }),
                  version: h.version,
                  digest: h.digest,
                }),
              );
        }
        if (lastId === null || lastId < version) write(version, frameOf(current));
      }
    } finally {
      replaying = false;
      writePlan(parts.rollouts.planFrame(environment));
      const late = arrived as Current | null;
      if (late !== null) write(late.head.version, frameOf(late));
    }
  };
  return { "GET events": events, "GET service-events": events, "GET all-events": allEvents };
}
