/**
 * The distribution endpoint's routes as data: the request dispatch, the auth check and the metrics labels
 * all read this one table, and a test holds the HTTP API tables of docs/distribution.md and
 * docs/reference.md to it, so neither the code nor the docs can grow a route the other lacks.
 */
import { ENVIRONMENT_NAME } from "../core/snapshot/index.js";

/**
 * Who may call a route: `public` anyone; `token` any valid token (the answer is filtered to what it may
 * read); `read`/`push` a token allowed that on the route's `{env}`; `admin` an admin token; `dashboard`
 * the dashboard, which checks its own requests (session cookie or token).
 */
export type Scope = "public" | "token" | "read" | "push" | "admin" | "dashboard";

/** The route names, also the `route` label of the request metrics. */
export type RouteName =
  "snapshot" | "version" | "history" | "events" | "status" | "audit" | "healthz" | "metrics" | "ui";

export interface Route {
  /** `*`: the handler checks the method itself (the dashboard). */
  method: "GET" | "PUT" | "*";
  /** Also answers HEAD (a GET whose body is dropped). */
  head?: boolean;
  /** Literal segments, `:param` segments, and a trailing `/*` for a whole subtree (including its root). */
  pattern: string;
  scope: Scope;
  name: RouteName;
  /** Not in the HTTP API tables of the docs (the dashboard is described in docs/dashboard.md). */
  undocumented?: boolean;
}

export const ROUTES: readonly Route[] = [
  { method: "PUT", pattern: "/v1/environments/:env/snapshot", scope: "push", name: "snapshot" },
  { method: "GET", head: true, pattern: "/v1/environments/:env/snapshot", scope: "read", name: "snapshot" },
  { method: "GET", head: true, pattern: "/v1/environments/:env/snapshots/:version", scope: "read", name: "version" },
  { method: "GET", pattern: "/v1/environments/:env/history", scope: "read", name: "history" },
  { method: "GET", pattern: "/v1/environments/:env/events", scope: "read", name: "events" },
  { method: "GET", pattern: "/v1/status", scope: "token", name: "status" },
  { method: "GET", pattern: "/v1/audit", scope: "admin", name: "audit" },
  { method: "GET", head: true, pattern: "/healthz", scope: "public", name: "healthz" },
  { method: "GET", head: true, pattern: "/metrics", scope: "public", name: "metrics" },
  { method: "*", pattern: "/ui/*", scope: "dashboard", name: "ui", undocumented: true },
];

/** A path parameter that fails its name rule: the resource cannot exist (404 with the route's error code). */
export class InvalidParam extends Error {
  constructor(
    readonly param: string,
    readonly value: string,
  ) {
    super(`invalid ${param === "env" ? "environment name" : param} ${JSON.stringify(value.slice(0, 100))}`);
  }
}

/** Name rules of path parameters; a parameter without one is checked by its handler. */
const PARAM_RULES: Record<string, RegExp> = { env: ENVIRONMENT_NAME };

export type RouteMatch =
  | { kind: "found"; route: Route; params: Record<string, string> }
  /** The path is known but not for this method: 405 with `Allow`. */
  | { kind: "method"; name: RouteName; allow: string[] }
  | { kind: "none" };

interface Compiled {
  route: Route;
  segments: string[];
  subtree: boolean;
}

export interface Router {
  /** Matches a path (without its query) and method; throws {@link InvalidParam} for a bad parameter. */
  match(method: string, path: string): RouteMatch;
}

export function createRouter(routes: readonly Route[] = ROUTES): Router {
  const compiled: Compiled[] = routes.map((route) => {
    const subtree = route.pattern.endsWith("/*");
    return { route, subtree, segments: (subtree ? route.pattern.slice(0, -2) : route.pattern).split("/").slice(1) };
  });
  return {
    match(method, path) {
      const parts = path.split("/").slice(1);
      let params: Record<string, string> | null = null;
      const candidates: Compiled[] = [];
      for (const c of compiled) {
        const p = matchSegments(c, parts);
        if (p === null) continue;
        params ??= p;
        candidates.push(c);
      }
      if (params === null) return { kind: "none" };
      // The path names a resource: a bad name is a 404 whatever the method.
      for (const [name, raw] of Object.entries(params)) params[name] = decodeParam(name, raw);
      for (const c of candidates) {
        const r = c.route;
        if (r.method === "*" || r.method === method || (r.head === true && method === "HEAD"))
          return { kind: "found", route: r, params };
      }
      const allow = candidates.flatMap((c) => (c.route.head === true ? [c.route.method, "HEAD"] : [c.route.method]));
      return { kind: "method", name: candidates[0]!.route.name, allow: [...new Set(allow)].sort() };
    },
  };
}

function matchSegments(c: Compiled, parts: string[]): Record<string, string> | null {
  if (c.subtree ? parts.length < c.segments.length : parts.length !== c.segments.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < c.segments.length; i++) {
    const seg = c.segments[i]!;
    if (seg.startsWith(":")) params[seg.slice(1)] = parts[i]!;
    else if (seg !== parts[i]) return null;
  }
  return params;
}

function decodeParam(name: string, raw: string): string {
  let value: string;
  try {
    value = decodeURIComponent(raw);
  } catch {
    throw new InvalidParam(name, raw);
  }
  const rule = PARAM_RULES[name];
  if (rule !== undefined && !rule.test(value)) throw new InvalidParam(name, value);
  return value;
}
