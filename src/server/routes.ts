/**
 * The endpoint's routes as data: the request dispatch, the auth check, the metrics labels and the handler
 * map all read this one table, and a test holds the HTTP API tables of docs/distribution.md,
 * docs/reference.md and docs/dashboard.md to it, so neither the code nor the docs can grow a route the
 * other lacks. `Handlers` is typed from the table: a route without a handler does not compile.
 */
import { VALID_NAME } from "../core/names.js";
import type { Chain } from "../core/protocol/index.js";
import { ENVIRONMENT_NAME } from "../core/snapshot/index.js";

/**
 * Who may call a route: `public` anyone; `token` any valid token (the answer is filtered to what it may
 * read); `read`/`push`/`report` a token allowed that on the route's `{env}` (and `{svc}`: tokens.ts); `admin` an admin
 * token. The dashboard's session cookie counts as the token for GET and HEAD.
 */
export type Scope = "public" | "token" | "read" | "push" | "report" | "admin";

/**
 * Which part of the server a route belongs to: the distribution API (and the probes), documented in
 * docs/distribution.md and docs/reference.md; or the dashboard, documented in docs/dashboard.md, whose
 * every answer carries its security headers.
 */
export type Part = "api" | "dashboard";

export interface Route {
  method: "GET" | "PUT" | "POST";
  /** Also answers HEAD (a GET whose body is dropped). */
  head?: boolean;
  /** Literal segments, `:param` segments, and a trailing `/*` for a whole subtree (including its root). */
  pattern: string;
  scope: Scope;
  /** The `route` label of the request metrics; with the method, the key of its handler. */
  name: string;
  part: Part;
}

/** In match order: a subtree route comes after the routes inside it. */
export const ROUTES = [
  { method: "PUT", pattern: "/v1/environments/:env/snapshot", scope: "push", name: "snapshot", part: "api" },
  {
    method: "GET",
    head: true,
    pattern: "/v1/environments/:env/snapshot",
    scope: "read",
    name: "snapshot",
    part: "api",
  },
  {
    method: "GET",
    head: true,
    pattern: "/v1/environments/:env/snapshots/:version",
    scope: "read",
    name: "version",
    part: "api",
  },
  { method: "GET", pattern: "/v1/environments/:env/history", scope: "read", name: "history", part: "api" },
  { method: "GET", pattern: "/v1/environments/:env/events", scope: "read", name: "events", part: "api" },
  { method: "GET", pattern: "/v1/events", scope: "token", name: "all-events", part: "api" },
  // Progressive delivery (docs/rollouts.md; the documents are core/protocol/rollout.ts's).
  { method: "GET", head: true, pattern: "/v1/environments/:env/plan", scope: "read", name: "plan", part: "api" },
  { method: "GET", pattern: "/v1/environments/:env/rollout", scope: "read", name: "rollout", part: "api" },
  {
    method: "POST",
    pattern: "/v1/environments/:env/rollout/:action",
    scope: "push",
    name: "rollout-action",
    part: "api",
  },
  { method: "POST", pattern: "/v1/environments/:env/reports", scope: "report", name: "reports", part: "api" },
  // A service's own chain (docs/distribution.md, "Services"): the same four reads and the publish.
  {
    method: "PUT",
    pattern: "/v1/environments/:env/services/:svc/snapshot",
    scope: "push",
    name: "service-snapshot",
    part: "api",
  },
  {
    method: "GET",
    head: true,
    pattern: "/v1/environments/:env/services/:svc/snapshot",
    scope: "read",
    name: "service-snapshot",
    part: "api",
  },
  {
    method: "GET",
    head: true,
    pattern: "/v1/environments/:env/services/:svc/snapshots/:version",
    scope: "read",
    name: "service-version",
    part: "api",
  },
  {
    method: "GET",
    pattern: "/v1/environments/:env/services/:svc/history",
    scope: "read",
    name: "service-history",
    part: "api",
  },
  {
    method: "GET",
    pattern: "/v1/environments/:env/services/:svc/events",
    scope: "read",
    name: "service-events",
    part: "api",
  },
  // A service's chain has its own rollout routes: the same four (services publish all at once today, so its
  // plan is 404 and its status says all-at-once; docs/rollouts.md).
  {
    method: "GET",
    head: true,
    pattern: "/v1/environments/:env/services/:svc/plan",
    scope: "read",
    name: "service-plan",
    part: "api",
  },
  {
    method: "GET",
    pattern: "/v1/environments/:env/services/:svc/rollout",
    scope: "read",
    name: "service-rollout",
    part: "api",
  },
  {
    method: "POST",
    pattern: "/v1/environments/:env/services/:svc/rollout/:action",
    scope: "push",
    name: "service-rollout-action",
    part: "api",
  },
  {
    method: "POST",
    pattern: "/v1/environments/:env/services/:svc/reports",
    scope: "report",
    name: "service-reports",
    part: "api",
  },
  { method: "GET", pattern: "/v1/status", scope: "token", name: "status", part: "api" },
  { method: "GET", pattern: "/v1/audit", scope: "admin", name: "audit", part: "api" },
  { method: "GET", head: true, pattern: "/healthz", scope: "public", name: "healthz", part: "api" },
  { method: "GET", head: true, pattern: "/metrics", scope: "public", name: "metrics", part: "api" },
  { method: "GET", pattern: "/ui/api/session", scope: "token", name: "ui-session", part: "dashboard" },
  { method: "GET", pattern: "/ui/api/environments", scope: "token", name: "ui-environments", part: "dashboard" },
  { method: "GET", pattern: "/ui/api/environments/:env/diff", scope: "read", name: "ui-diff", part: "dashboard" },
  {
    method: "GET",
    pattern: "/ui/api/environments/:env/versions",
    scope: "read",
    name: "ui-versions",
    part: "dashboard",
  },
  { method: "GET", pattern: "/ui/api/audit", scope: "token", name: "ui-audit", part: "dashboard" },
  { method: "POST", pattern: "/ui/login", scope: "public", name: "ui-login", part: "dashboard" },
  { method: "POST", pattern: "/ui/logout", scope: "public", name: "ui-logout", part: "dashboard" },
  { method: "GET", head: true, pattern: "/ui/*", scope: "public", name: "ui", part: "dashboard" },
] as const satisfies readonly Route[];

type AnyRoute = (typeof ROUTES)[number];
type KeyOf<R> = R extends AnyRoute ? `${R["method"]} ${R["name"]}` : never;
/** `METHOD name`: one per route, the key of its handler. */
export type RouteKey = KeyOf<AnyRoute>;

type ParamNames<P extends string> = P extends `${string}:${infer N}/${infer Rest}`
  ? N | ParamNames<Rest>
  : P extends `${string}:${infer N}`
    ? N
    : never;
type PatternOf<K extends RouteKey> = Extract<
  AnyRoute,
  { method: K extends `${infer M} ${string}` ? M : never; name: K extends `${string} ${infer N}` ? N : never }
>["pattern"];
/** The decoded, validated path parameters of a route. */
export type RouteParams<K extends RouteKey> = Readonly<Record<ParamNames<PatternOf<K>>, string>>;

function routeKey(route: AnyRoute): RouteKey {
  return `${route.method} ${route.name}` as RouteKey;
}

/** A path parameter that fails its name rule: the resource cannot exist (404 with the route's error code). */
export class InvalidParam extends Error {
  /** The 404's code: what does not exist. */
  readonly code: "unknown-environment" | "unknown-service";
  constructor(
    readonly param: string,
    readonly value: string,
    /** The route whose path it is (its part decides the answer's headers). */
    readonly route: AnyRoute,
  ) {
    const what = param === "env" ? "environment name" : param === "svc" ? "service name" : param;
    super(`invalid ${what} ${JSON.stringify(value.slice(0, 100))}`);
    this.code = param === "svc" ? "unknown-service" : "unknown-environment";
  }
}

/** Name rules of path parameters; a parameter without one is checked by its handler. */
const PARAM_RULES: Record<string, RegExp> = { env: ENVIRONMENT_NAME, svc: VALID_NAME };

/** The version chain a route's path names: the environment's, or (`…/services/{svc}/…`) a service's. */
export function chainOf(params: { readonly env: string; readonly svc?: string }): Chain {
  return { environment: params.env, service: params.svc ?? null };
}

export type RouteMatch =
  | { kind: "found"; route: AnyRoute; key: RouteKey; params: Record<string, string> }
  /** The path is known but not for this method: 405 with `Allow`. */
  | { kind: "method"; route: AnyRoute; allow: string[] }
  | { kind: "none" };

interface Compiled {
  route: AnyRoute;
  key: RouteKey;
  segments: string[];
  subtree: boolean;
}

export interface Router {
  /** Matches a path (without its query) and method; throws {@link InvalidParam} for a bad parameter. */
  match(method: string, path: string): RouteMatch;
}

export function createRouter(routes: readonly AnyRoute[] = ROUTES): Router {
  const compiled: Compiled[] = routes.map((route) => {
    const subtree = route.pattern.endsWith("/*");
    return {
      route,
      key: routeKey(route),
      subtree,
      segments: (subtree ? route.pattern.slice(0, -2) : route.pattern).split("/").slice(1),
    };
  });
  // The answers for recent paths (a fleet asks for the same few hundred): a match is a function of the method
  // and path alone, its parameters already decoded and checked. Bounded: emptied when full, so paths a client
  // makes up cost no memory beyond it.
  const recent = new Map<string, RouteMatch>();
  return {
    match(method, path) {
      const cacheKey = `${method} ${path}`;
      const known = recent.get(cacheKey);
      if (known !== undefined) return known;
      const found = matchUncached(method, path);
      if (found.kind === "found") {
        if (recent.size >= RECENT_PATHS) recent.clear();
        Object.freeze(found.params);
        recent.set(cacheKey, found);
      }
      return found;
    },
  };

  function matchUncached(method: string, path: string): RouteMatch {
    const parts = path.split("/").slice(1);
    let params: Record<string, string> | null = null;
    let candidates: Compiled[] = [];
    for (const c of compiled) {
      const p = matchSegments(c, parts);
      if (p === null) continue;
      // A route of this very path wins over a subtree holding it, whatever the method.
      if (!c.subtree && candidates.some((k) => k.subtree)) [params, candidates] = [null, []];
      else if (c.subtree && candidates.some((k) => !k.subtree)) continue;
      params ??= p;
      candidates.push(c);
    }
    if (params === null) return { kind: "none" };
    // The path names a resource: a bad name is a 404 whatever the method.
    for (const [name, raw] of Object.entries(params)) params[name] = decodeParam(name, raw, candidates[0]!.route);
    for (const c of candidates) {
      const r: Route = c.route;
      if (r.method === method || (r.head === true && method === "HEAD"))
        return { kind: "found", route: c.route, key: c.key, params };
    }
    const allow = candidates.flatMap((c) => {
      const r: Route = c.route;
      return r.head === true ? [r.method, "HEAD"] : [r.method];
    });
    return { kind: "method", route: candidates[0]!.route, allow: [...new Set(allow)].sort() };
  }
}

/** How many matched paths the router remembers. */
const RECENT_PATHS = 1024;

function matchSegments(c: Compiled, parts: string[]): Record<string, string> | null {
  if (c.subtree ? parts.length < c.segments.length : parts.length !== c.segments.length) return null;
  // The literal segments first: most routes fail there, before any object is made.
  for (let i = 0; i < c.segments.length; i++) {
    const seg = c.segments[i]!;
    if (!seg.startsWith(":") && seg !== parts[i]) return null;
  }
  const params: Record<string, string> = {};
  for (let i = 0; i < c.segments.length; i++) {
    const seg = c.segments[i]!;
    if (seg.startsWith(":")) params[seg.slice(1)] = parts[i]!;
    else if (seg !== parts[i]) return null;
  }
  return params;
}

function decodeParam(name: string, raw: string, route: AnyRoute): string {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw new InvalidParam(name, raw, route);
  }
  const rule = PARAM_RULES[name];
  if (rule !== undefined && !rule.test(value)) throw new InvalidParam(name, value, route);
  return value;
}
