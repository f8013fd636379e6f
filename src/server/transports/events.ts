/**
 * `GET /v1/environments/{env}/events`: server-sent events. On connect the current version (or, with
 * `Last-Event-ID: n`, every version after n), then one frame per new version, and a comment every 15 s so
 * proxies keep the stream open. The frames are the protocol's (core/protocol/events.ts).
 */
import { formatSnapshotEvent, KEEP_ALIVE_FRAME, KEEP_ALIVE_MS, RETRY_FRAME } from "../../core/protocol/index.js";
import { nothingPublished, requestChain, type ChainHandler } from "../chains.js";
import { cacheControl, type Handlers } from "../dispatch.js";
import type { Current } from "../environments.js";
import type { EndpointParts } from "../parts.js";

export function eventStreamHandlers(parts: EndpointParts): Pick<Handlers, "GET events" | "GET service-events"> {
  const { cache, watchers } = parts;
  // The environment's stream and its services' (`…/services/{svc}/events`): the same, on the chain's key.
  const events: ChainHandler<"GET events"> = async (ctx) => {
    const { req, res } = ctx;
    const chain = requestChain(ctx.params);
    const environment = chain.key;
    const client = parts.clients.touchFrom(req, chain.environment);
    ctx.streaming = true;
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
    const write = (version: number, frame: string): void => {
      if (version <= written || res.writableEnded) return;
      res.write(frame);
      written = version;
    };
    const unsubscribe = cache.subscribe(environment, {
      onVersion: (c) => {
        if (replaying) arrived = c;
        else write(c.head.version, c.frame);
      },
      onClose: () => res.end(),
    });
    watchers.sse++;
    if (client) client.connections++;
    const heartbeat = setInterval(() => {
      if (!res.writableEnded) res.write(KEEP_ALIVE_FRAME);
    }, KEEP_ALIVE_MS);
    heartbeat.unref();
    // A token revoked while the stream is open (the tokens file re-read) ends it.
    const unrevoked = parts.auth.onRevoked(req, "read", chain.environment, () => res.end(), chain.service ?? undefined);
    res.once("close", () => {
      clearInterval(heartbeat);
      unrevoked();
      unsubscribe();
      watchers.sse--;
      if (client) client.connections--;
    });
    const raw = req.headers["last-event-id"];
    const lastId = typeof raw !== "string" || !/^\d{1,15}$/.test(raw) ? null : Number(raw);
    try {
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
        if (lastId === null || lastId < version) write(version, current.frame);
      }
    } finally {
      replaying = false;
      const late = arrived as Current | null;
      if (late !== null) write(late.head.version, late.frame);
    }
  };
  return { "GET events": events, "GET service-events": events };
}
