import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { createRouter, InvalidParam, ROUTES } from "../../src/server/routes.js";

/** The `METHOD /path` pairs in the first column of the table under `## HTTP API` of a docs page. */
function documentedRoutes(file: string): string[] {
  const text = readFileSync(new URL(`../../docs/${file}`, import.meta.url), "utf8");
  const start = text.indexOf("\n## HTTP API\n");
  expect(start, `${file} has a "## HTTP API" section`).toBeGreaterThanOrEqual(0);
  const next = text.indexOf("\n## ", start + 1);
  const section = text.slice(start, next < 0 ? undefined : next);
  const out: string[] = [];
  for (const line of section.split("\n")) {
    if (!line.startsWith("| `")) continue;
    const firstCell = line.split(" | ")[0]!;
    for (const m of firstCell.matchAll(/`(GET|HEAD|PUT|POST|PATCH|DELETE) (\/[^`\s]*)`/g)) out.push(`${m[1]} ${m[2]}`);
  }
  return out.sort();
}

const tableRoutes = ROUTES.filter((r) => r.undocumented !== true)
  .map((r) => `${r.method} ${r.pattern.replace(/:(\w+)/g, "{$1}")}`)
  .sort();

describe("the route table", () => {
  it.each(["distribution.md", "reference.md"])("is exactly the HTTP API table of docs/%s", (file) => {
    expect(documentedRoutes(file)).toEqual(tableRoutes);
  });

  it("matches paths, decodes and validates parameters, and tells a wrong method from an unknown path", () => {
    const router = createRouter();
    expect(router.match("GET", "/v1/environments/staging/snapshot")).toMatchObject({
      kind: "found",
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
    expect(router.match("POST", "/v1/environments/staging/snapshot")).toEqual({
      kind: "method",
      name: "snapshot",
      allow: ["GET", "HEAD", "PUT"],
    });
    expect(router.match("HEAD", "/v1/environments/staging/history")).toEqual({
      kind: "method",
      name: "history",
      allow: ["GET"],
    });
    expect(router.match("GET", "/v1/environments/staging/snapshot/")).toEqual({ kind: "none" });
    expect(router.match("GET", "/v2/nothing")).toEqual({ kind: "none" });
    expect(router.match("POST", "/ui")).toMatchObject({ kind: "found", route: { name: "ui", scope: "dashboard" } });
    expect(router.match("GET", "/ui/api/x")).toMatchObject({ kind: "found", route: { name: "ui" } });
    expect(router.match("GET", "/uix")).toEqual({ kind: "none" });
    for (const bad of ["..%2Fx", "Staging", "%E0", "", "a".repeat(65)]) {
      expect(() => router.match("GET", `/v1/environments/${bad}/events`), bad).toThrow(InvalidParam);
    }
  });
});
