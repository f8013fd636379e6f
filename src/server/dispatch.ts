/**
 * Routing and auth: every request goes through the route table (a path no route serves is `404 not-found`,
 * a known path with another method `405` with `Allow`), the Host rule, the route's scope, then its handler;
 * every error becomes the JSON error document; every request is counted, timed and, when it matters, logged.
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import { isStrataError } from "../core/findings.js";
import { isHttpErrorCode, type ErrorDocument, type HttpErrorCode } from "../core/protocol/index.js";
import { redact } from "../core/redact.js";
import type { Auth } from "./auth.js";
import { HttpError, sendJson, statusOf } from "./http.js";
import type { LogFn } from "./log.js";
import type { ServerMetrics } from "./metrics.js";
import { createRouter, InvalidParam, type Part, type RouteKey, type RouteMatch, type RouteParams } from "./routes.js";
import type { Grant } from "./tokens.js";
import { SECURITY_HEADERS } from "./ui/assets.js";
import { asDashboardAnswer, readsWithSessionCookie } from "./ui/session.js";

/** One request on its way through a route's handler. */
export interface RequestContext<P = Readonly<Record<string, string>>> {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  query: URLSearchParams | null;
  /** The route's path parameters, decoded and checked against their name rules. */
  params: P;
  grant: Grant | null;
  /**
   * Whether a shared cache (a proxy, a CDN) may keep the answer: only when no token is needed for it. With
   * tokens, answers are `private` and vary by `Authorization` and `Cookie`.
   */
  shared: boolean;
  /** A long-poll or event stream: left out of the latency histogram and the slow-request log. */
  streaming: boolean;
}

export type Handler<K extends RouteKey> = (ctx: RequestContext<RouteParams<K>>) => Promise<void> | void;

/** One handler per route of the table: a route without a handler (or a handler without a route) does not compile. */
export type Handlers = { [K in RouteKey]: Handler<K> };

/** `Cache-Control` for an answer: `directives`, made `private` unless {@link RequestContext.shared}. */
export function cacheControl(ctx: RequestContext<unknown>, directives: string): string {
  return ctx.shared ? directives : `private, ${directives}`;
}

export interface DispatchOptions {
  auth: Auth;
  handlers: Handlers;
  metrics: ServerMetrics;
  log: LogFn;
  /** Log every request, reads included (debug); otherwise writes, errors and slow requests only. */
  logRequests: boolean;
}

function applyPartHeaders(res: ServerResponse, part: Part): void {
  if (part === "dashboard") for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
}

export function createDispatcher(
  options: DispatchOptions,
): (req: IncomingMessage, res: ServerResponse) => Promise<void> | void {
  const { auth, handlers, metrics, log } = options;
  const router = createRouter();

  function fail(req: IncomingMessage, res: ServerResponse, e: unknown): void {
    let status: number;
    let code: HttpErrorCode;
    let message: string;
    let extra: Record<string, unknown> = {};
    if (e instanceof HttpError) ({ status, code, message, extra } = e);
    else if (isStrataError(e)) {
      code = isHttpErrorCode(e.code) ? e.code : "internal";
      status = statusOf(code);
      message = e.message;
    } else {
      status = 500;
      code = "internal";
      message = "internal error";
      log("error", "internal error", {
        path: req.url,
        error: redact(e instanceof Error ? (e.stack ?? e.message) : String(e)),
      });
    }
    if (res.headersSent) return void res.destroy();
    const headers: Record<string, string> = {};
    if (typeof extra.allow === "string") headers.allow = extra.allow;
    if (status === 401) headers["www-authenticate"] = 'Bearer realm="strata"';
    const { allow: _a, ...rest } = extra;
    const body: ErrorDocument = { error: { code, message: redact(message), ...rest } };
    sendJson(res, status, body, headers);
  }

  /** Counts, times and (when it matters) logs a request once its handler has answered or failed. */
  function finish(
    ctx: RequestContext,
    method: string,
    route: string,
    environment: string | null,
    started: number,
  ): void {
    const { req, res, path } = ctx;
    const status = res.statusCode;
    metrics.requests.inc({ method, route, status: String(status) });
    const ms = performance.now() - started;
    const streaming = ctx.streaming;
    if (!streaming) metrics.latency.observe(ms / 1000, { route });
    const write = req.method === "PUT" || req.method === "POST" || status >= 400;
    if (write || options.logRequests || (!streaming && ms > 1000)) {
      log(status >= 500 ? "error" : status >= 400 ? "warn" : write ? "info" : "debug", "request", {
        method: req.method,
        path,
        status,
        ms: Math.round(ms * 10) / 10,
        route,
        environment,
        token: ctx.grant?.name ?? null,
        client: req.headers["strata-client"] ?? null,
        remote: (req.socket as typeof req.socket | null)?.remoteAddress ?? null,
      });
    }
  }

  // Not an async function: a handler that answers synchronously (the current snapshot from memory, the hot
  // path) is counted and done without a promise or a turn of the microtask queue.
  return (req, res) => {
    const started = performance.now();
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? null : new URLSearchParams(url.slice(q + 1));
    const method = req.method ?? "GET";
    let route = "unknown";
    let environment: string | null = null;
    const ctx: RequestContext = {
      req,
      res,
      path,
      query,
      params: {},
      grant: null,
      shared: !auth.enabled,
      streaming: false,
    };
    let pending: Promise<void> | void = undefined;
    try {
      let match: RouteMatch;
      try {
        match = router.match(method, path);
      } catch (e) {
        if (!(e instanceof InvalidParam)) throw e;
        applyPartHeaders(res, e.route.part);
        auth.checkHost(req, path);
        throw new HttpError(404, e.code, e.message);
      }
      if (match.kind !== "none") applyPartHeaders(res, match.route.part);
      auth.checkHost(req, path);
      if (match.kind === "none") throw new HttpError(404, "not-found", `no such resource: ${method} ${path}`);
      if (match.kind === "method") {
        route = match.route.name;
        throw new HttpError(405, "invalid-argument", `${method} is not allowed here (use ${match.allow.join(", ")})`, {
          allow: match.allow.join(", "),
        });
      }
      route = match.route.name;
      ctx.params = match.params;
      environment = match.params.env ?? null;
      if (match.route.scope !== "public" && auth.enabled) {
        ctx.shared = false;
        res.setHeader("cache-control", "private");
        res.setHeader("vary", "Authorization, Cookie");
      }
      ctx.grant = auth.forScope(req, match.route.scope, environment ?? undefined, match.params.svc);
      if (match.route.part === "api" && readsWithSessionCookie(req)) asDashboardAnswer(res);
      pending = (handlers[match.key] as Handler<RouteKey>)(ctx as RequestContext<never>);
    } catch (e) {
      fail(req, res, e);
    }
    if (pending === undefined) return void finish(ctx, method, route, environment, started);
    return pending.then(
      () => finish(ctx, method, route, environment, started),
      (e: unknown) => {
        fail(req, res, e);
        finish(ctx, method, route, environment, started);
      },
    );
  };
}
