import { readFileSync } from "node:fs";
import { describe, expect, expectTypeOf, it } from "vitest";
import type { Handlers, RequestContext } from "../../src/server/dispatch.js";
import { createRouter, InvalidParam, ROUTES, type RouteKey, type RouteParams } from "../../src/server/routes.js";

/** The `METHOD /path` pairs in the first column of the table under `## <section>` of a docs page. */
function documentedRoutes(file: string, section = "HTTP API"): string[] {
  const text = readFileSync(new URL(`../../docs/${file}`, import.meta.url), "utf8");
  const start = text.indexOf(`\n## ${section}\n`);
  expect(start, `${file} has a "## ${section}" section`).toBeGreaterThanOrEqual(0);
  const next = text.indexOf("\n## ", start + 1);
  const body = text.slice(start, next < 0 ? undefined : next);
  const out: string[] = [];
  for (const line of body.split("\n")) {
    if (!line.startsWith("| `")) continue;
    const firstCell = line.split(" | ")[0]!;
    for (const m of firstCell.matchAll(/`(GET|HEAD|PUT|POST|PATCH|DELETE) (\/[^`\s]*)`/g)) out.push(`${m[1]} ${m[2]}`);
  }
  return out.sort();
}

const tableRoutes = (part: "api" | "dashboard"): string[] =>
  ROUTES.filter((r) => r.part === part)
    .map((r) => `${r.method} ${r.pattern.replace(/:(\w+)/g, "{$1}")}`)
    .sort();

describe("the route table", () => {
  it.each(["distribution.md", "reference.md"])("is exactly the HTTP API table of docs/%s", (file) => {
    expect(documentedRoutes(file)).toEqual(tableRoutes("api"));
  });

  it("is exactly the dashboard's API table of docs/dashboard.md", () => {
    expect(documentedRoutes("dashboard.md", "Routes")).toEqual(tableRoutes("dashboard"));
  });

  it("has one handler per route, typed by the route's parameters: a route without a handler does not compile", () => {
    expectTypeOf<keyof Handlers>().toEqualTypeOf<RouteKey>();
    expectTypeOf<RouteParams<"GET version">>().toEqualTypeOf<Readonly<Record<"env" | "version", string>>>();
    expectTypeOf<RouteParams<"GET status">>().toEqualTypeOf<Readonly<Record<never, string>>>();
    expectTypeOf<Parameters<Handlers["GET ui-diff"]>[0]>().toEqualTypeOf<
      RequestContext<Readonly<Record<"env", string>>>
    >();
    const incomplete = {} as Omit<Handlers, "GET ui-session">;
    // @ts-expect-error -- the dashboard's session route has no handler
    const handlers: Handlers = incomplete;
    expect(handlers).toBeDefined();
    expect(new Set(ROUTES.map((r) => `${r.method} ${r.name}`)).size).toBe(ROUTES.length);
  });

  it("matches paths, decodes and validates parameters, and tells a wrong method from an unknown path", () => {
    const router = createRouter();
    expect(router.match("GET", "/v1/environments/staging/snapshot")).toMatchObject({
      kind: "found",
      key: "GET snapshot",
      route: { name: "snapshot", scope: "read" },
      params: { env: "staging" },
    });
    expect(router.match("PUT", "/v1/environments/staging/snapshot")).toMatchObject({
      kind: "found",
      route: { name: "snapshot", scope: "push" },
    });
    expect(router.match("HEAD", "/v1/environments/st%61ging/snapshots/7")).toMatchObject({
      kind: "found",
      route: { name: "version" },
      params: { env: "staging", version: "7" },
    });
    expect(router.match("POST", "/v1/environments/staging/snapshot")).toMatchObject({
      kind: "method",
      route: { name: "snapshot" },
      allow: ["GET", "HEAD", "PUT"],
    });
    expect(router.match("HEAD", "/v1/environments/staging/history")).toMatchObject({
      kind: "method",
      route: { name: "history" },
      allow: ["GET"],
    });
    expect(router.match("GET", "/v1/environments/staging/snapshot/")).toEqual({ kind: "none" });
    expect(router.match("GET", "/v2/nothing")).toEqual({ kind: "none" });
    expect(router.match("GET", "/uix")).toEqual({ kind: "none" });
    for (const bad of ["..%2Fx", "Staging", "%E0", "", "a".repeat(65)]) {
      expect(() => router.match("GET", `/v1/environments/${bad}/events`), bad).toThrow(InvalidParam);
    }
  });

  it("routes the dashboard's API like every other route; its files are the /ui/ subtree", () => {
    const router = createRouter();
    expect(router.match("GET", "/ui/api/session")).toMatchObject({
      kind: "found",
      key: "GET ui-session",
      route: { scope: "token", part: "dashboard" },
    });
    expect(router.match("GET", "/ui/api/environments/staging/diff")).toMatchObject({
      kind: "found",
      key: "GET ui-diff",
      route: { scope: "read" },
      params: { env: "staging" },
    });
    // A route of the path itself wins over the subtree: no HEAD, no files under an API path.
    expect(router.match("HEAD", "/ui/api/audit")).toMatchObject({ kind: "method", allow: ["GET"] });
    expect(router.match("POST", "/ui/api/audit")).toMatchObject({ kind: "method", allow: ["GET"] });
    expect(router.match("POST", "/ui/login")).toMatchObject({
      kind: "found",
      key: "POST ui-login",
      route: { scope: "public" },
    });
    expect(router.match("GET", "/ui/login")).toMatchObject({ kind: "method", allow: ["POST"] });
    for (const path of ["/ui", "/ui/", "/ui/app.js", "/ui/api/nope"])
      expect(router.match("GET", path), path).toMatchObject({
        kind: "found",
        key: "GET ui",
        route: { scope: "public" },
      });
    expect(router.match("POST", "/ui")).toMatchObject({ kind: "method", allow: ["GET", "HEAD"] });
    expect(() => router.match("GET", "/ui/api/environments/Bad!/diff")).toThrow(InvalidParam);
  });
});
