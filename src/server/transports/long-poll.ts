/**
 * `GET /v1/environments/{env}/snapshot`: the current snapshot from memory, conditional on `If-None-Match`,
 * and with `?wait=N` a long-poll that answers as soon as a newer version exists (200) or at the timeout
 * (304).
 */
import type { ServerResponse } from "node:http";
import type { TrackedClient } from "../clients.js";
import { nothingPublished, requestChain, type ChainHandler } from "../chains.js";
import { chainKey } from "../../core/protocol/index.js";
import { cacheControl, type Handlers, type RequestContext } from "../dispatch.js";
import type { Current } from "../environments.js";
import { HttpError, parseEtags } from "../http.js";
import type { EndpointParts } from "../parts.js";
import { chainOf, type RouteParams } from "../routes.js";

/** The longest a long-poll waits. */
const MAX_WAIT_SECONDS = 60;

export function longPollHandlers(parts: EndpointParts): Pick<Handlers, "GET snapshot" | "GET service-snapshot"> {
  const { cache, watchers } = parts;

  /** Resolves with the environment's current snapshot once it is newer than `seen`, or at the timeout. */
  function waitForNewer(
    res: ServerResponse,
    environment: string,
    seen: Current | null,
    seconds: number,
    client: TrackedClient | null,
  ): Promise<Current | null> {
    if (parts.closing() || seconds === 0) return Promise.resolve(seen);
    const seenVersion = seen?.head.version ?? 0;
    return new Promise((resolve) => {
      watchers.longpoll++;
      if (client) parts.clients.connect(client);
      let finished = false;
      const done = (): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        unsubscribe();
        res.off("close", done);
        watchers.longpoll--;
        if (client) parts.clients.disconnect(client);
        resolve(cache.latest(environment));
      };
      const unsubscribe = cache.subscribe(environment, {
        onVersion: (current) => {
          if (current.head.version > seenVersion) done();
        },
        onClose: done,
      });
      const timer = setTimeout(done, seconds * 1000);
      // The client went away: stop waiting for it.
      res.once("close", done);
    });
  }

  /** Whether `If-None-Match` (`header`, its versions `known`) names `c`: `*` and a `"0"` for nothing published too. */
  function matches(header: string | undefined, known: number[] | null, c: Current | null): boolean {
    return (
      header !== undefined &&
      (c !== null && header === c.etag
        ? true
        : known !== null && (c === null ? known.includes(0) : known.includes(c.head.version) || known.includes(-1)))
    );
  }

  function answer(
    ctx: RequestContext<unknown>,
    current: Current,
    header: string | undefined,
    known: number[] | null,
  ): void {
    const { req, res } = ctx;
    if (matches(header, known, current)) {
      res.writeHead(304, { etag: current.etag, "cache-control": cacheControl(ctx, "no-cache") });
      return void res.end();
    }
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": current.body.length,
      etag: current.etag,
      "cache-control": cacheControl(ctx, "no-cache"),
    });
    res.end(req.method === "HEAD" ? undefined : current.body);
  }

  const etagsOf = (header: string | undefined, current: Current | null): number[] | null =>
    header === undefined || header === current?.etag ? null : parseEtags(header);

  /** Not loaded yet, nothing published, or a long-poll: may wait for the store or for a newer version. */
  async function slowSnapshot(
    ctx: RequestContext<RouteParams<"GET snapshot"> & { readonly svc?: string }>,
  ): Promise<void> {
    const { req, res, query } = ctx;
    const chain = requestChain(ctx.params);
    const environment = chain.key;
    const client = parts.clients.touchFrom(req, chain.environment);
    // A service nothing is published for is not waited on: it is not one of the environment's.
    if (chain.service !== null && (cache.peek(environment) ?? (await cache.current(environment))) === null)
      throw await nothingPublished(parts.store, chain);
    ctx.streaming = query?.has("wait") ?? false;
    let current = cache.peek(environment) ?? (await cache.current(environment));
    const header = req.headers["if-none-match"];
    const known = etagsOf(header, current);
    const waitParam = query?.get("wait") ?? null;
    if (waitParam !== null && (current === null || matches(header, known, current))) {
      const seconds = Number(waitParam);
      if (!Number.isFinite(seconds) || seconds < 0)
        throw new HttpError(400, "invalid-argument", "wait must be a number of seconds (at most 60)");
      current = await waitForNewer(res, environment, current, Math.min(seconds, MAX_WAIT_SECONDS), client);
      if (res.destroyed) return;
    }
    if (current === null) throw await nothingPublished(parts.store, chain);
    answer(ctx, current, header, known);
  }

  // The environment's route and its services' (`…/services/{svc}/snapshot`): the same, on the chain's key.
  // The hot path (loaded, no long-poll: what nearly every read is) answers from memory without a promise.
  const snapshot: ChainHandler<"GET snapshot"> = (ctx) => {
    const current = ctx.query === null ? cache.peek(chainKey(chainOf(ctx.params))) : undefined;
    if (current === undefined) return slowSnapshot(ctx);
    const { req } = ctx;
    parts.clients.touchFrom(req, ctx.params.env);
    const header = req.headers["if-none-match"];
    answer(ctx, current, header, etagsOf(header, current));
  };
  return { "GET snapshot": snapshot, "GET service-snapshot": snapshot };
}
