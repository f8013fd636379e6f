import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { Auth } from "../../src/server/auth.js";
import { createDispatcher, type Handlers, type RequestContext } from "../../src/server/dispatch.js";
import { HttpError } from "../../src/server/http.js";
import { createMetrics } from "../../src/server/metrics.js";

/**
 * The dispatcher answers a handler that finishes synchronously without a promise (the hot path of the
 * current snapshot); whichever way a handler ends (an answer, a throw, a rejection later), the request gets
 * one answer and is counted once.
 */
type AnyHandler = (ctx: RequestContext) => Promise<void> | void;

let server: Server | null = null;
afterEach(async () => {
  await new Promise<void>((r) => (server === null ? r() : server.close(() => r())));
  server = null;
});

async function serve(snapshot: AnyHandler): Promise<{ url: string; metrics: ReturnType<typeof createMetrics> }> {
  const metrics = createMetrics({
    watchers: () => ({ longpoll: 0, sse: 0 }),
    versions: () => [],
    load: () => ({ connections: 0, environments: 0 }),
    clients: () => [],
    publishedAt: () => null,
  });
  // Only the snapshot route is reached in these tests; any other handler is a test bug.
  const handlers = new Proxy({} as Handlers, {
    get: (_t, key) =>
      key === "GET snapshot"
        ? snapshot
        : () => {
            throw new Error(`unexpected route ${String(key)}`);
          },
  });
  const dispatch = createDispatcher({
    auth: new Auth(null),
    handlers,
    metrics,
    log: () => undefined,
    logRequests: false,
  });
  server = createServer((req, res) => void dispatch(req, res));
  await new Promise<void>((r) => server!.listen(0, "127.0.0.1", () => r()));
  const { port } = server.address() as AddressInfo;
  return { url: `http://127.0.0.1:${port}/v1/environments/staging/snapshot`, metrics };
}

function counted(metrics: ReturnType<typeof createMetrics>): string[] {
  return metrics
    .render(new Set(["strata_http_requests_total"]))
    .split("\n")
    .filter((l) => l.startsWith("strata_http_requests_total{"));
}

describe("the dispatcher", () => {
  it("answers and counts a handler that answers synchronously", async () => {
    const { url, metrics } = await serve(({ res }) => {
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"ok":true}');
    });
    const r = await fetch(url);
    expect(r.status).toBe(200);
    expect(await r.json()).toEqual({ ok: true });
    expect(counted(metrics)).toEqual(['strata_http_requests_total{method="GET",route="snapshot",status="200"} 1']);
  });

  it("answers a synchronous throw with its error document, counted with its status", async () => {
    const { url, metrics } = await serve(() => {
      throw new HttpError(404, "unknown-environment", "nothing is published for staging");
    });
    const r = await fetch(url);
    expect(r.status).toBe(404);
    expect(await r.json()).toEqual({
      error: { code: "unknown-environment", message: "nothing is published for staging" },
    });
    expect(counted(metrics)).toEqual(['strata_http_requests_total{method="GET",route="snapshot",status="404"} 1']);
  });

  it("answers a later rejection with its error document, and an unknown error as internal without its stack", async () => {
    let n = 0;
    const { url, metrics } = await serve(async () => {
      await new Promise((r) => setImmediate(r));
      if (n++ === 0) throw new HttpError(400, "invalid-argument", "wait must be a number of seconds (at most 60)");
      throw new TypeError("secret-looking detail at /srv/strata/x.js:1:1");
    });
    const first = await fetch(url);
    expect(first.status).toBe(400);
    expect(((await first.json()) as { error: { code: string } }).error.code).toBe("invalid-argument");
    const second = await fetch(url);
    expect(second.status).toBe(500);
    const text = await second.text();
    expect(JSON.parse(text)).toEqual({ error: { code: "internal", message: "internal error" } });
    expect(text).not.toContain("x.js");
    expect(counted(metrics).sort()).toEqual([
      'strata_http_requests_total{method="GET",route="snapshot",status="400"} 1',
      'strata_http_requests_total{method="GET",route="snapshot",status="500"} 1',
    ]);
  });
});
