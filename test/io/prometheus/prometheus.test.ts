// @module-tag e2e
// Prometheus gates against a real Prometheus scraping a synthetic service whose series carry
// strata_config_version; failing queries, empty results and NaN become inconclusive signals.
import { createServer, type Server } from "node:http";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { checkQueryTemplate, evaluateGate, type PrometheusGate } from "../../../src/core/rollout/index.js";
import { createPrometheusClient, readAnswer } from "../../../src/io/prometheus/client.js";
import { prometheusGateSignal } from "../../../src/io/prometheus/gate-signal.js";
import { cleanupTempdirs } from "../../support/gitdir.js";
import { lacking } from "../../support/shared.js";
import {
  freePort,
  startPrometheus,
  startSyntheticService,
  type PrometheusHandle,
  type SyntheticService,
} from "./daemons.js";

const missing = lacking("the Prometheus gate tests", { tool: "prometheus" });

function template(text: string) {
  const { template, problems } = checkQueryTemplate(text);
  if (!template) throw new Error(problems.join("; "));
  return template;
}
const gate = (bad: string, total: string, minSamples = 1000): PrometheusGate => ({
  name: "http-5xx",
  metric: "prometheus",
  minSamples,
  maxIncrease: 0.005,
  bad: template(bad),
  total: template(total),
});
const BAD = 'sum(increase(http_requests_total{code="500",strata_config_version="{{version}}"}[{{window}}]))';
const TOTAL = 'sum(increase(http_requests_total{strata_config_version="{{version}}"}[{{window}}]))';

describe.skipIf(missing)("Prometheus gates (real prometheus)", () => {
  let service: SyntheticService;
  let prometheus: PrometheusHandle;
  let from: number;

  beforeAll(async () => {
    // v41 (stable) fails 1% of requests, v42 (candidate) 6%, both at 1,000 requests per scrape.
    service = await startSyntheticService({
      "41": { requests: 1000, errors: 10 },
      "42": { requests: 1000, errors: 60 },
    });
    prometheus = await startPrometheus([service.port]);
    from = Date.now();
    const client = createPrometheusClient({ url: prometheus.url });
    // Ready when increase() has two samples of each version to work with.
    await vi.waitFor(
      async () => {
        const a = await client.query(
          'sum(count_over_time(http_requests_total{strata_config_version="41"}[1m]))',
          Date.now(),
        );
        expect(a.ok && a.value >= 6).toBe(true);
      },
      { timeout: 120_000, interval: 250 },
    );
  }, 180_000);

  afterAll(async () => {
    await prometheus?.stop();
    await service?.close();
    cleanupTempdirs();
  });

  it("measures both cohorts over the same window by their config version: the candidate's breach is seen", async () => {
    const client = createPrometheusClient({ url: prometheus.url });
    const at = Date.now();
    const g = gate(BAD, TOTAL);
    const signal = await prometheusGateSignal(client, g, {
      environment: "production",
      service: null,
      candidateVersion: 42,
      stableVersion: 41,
      from: from - 60_000,
      at,
    });
    expect(signal.kind).toBe("rate");
    if (signal.kind !== "rate") return;
    expect(signal.candidate.trials).toBeGreaterThan(1000);
    expect(signal.candidate.events / signal.candidate.trials).toBeCloseTo(0.06, 5);
    expect(signal.control.events / signal.control.trials).toBeCloseTo(0.01, 5);
    const verdict = evaluateGate(g, signal, 0.01);
    expect(verdict.verdict).toBe("breach");
    expect(verdict.detail).toMatch(/^http-5xx ratio 6% vs 1%/);
  });

  it.each<[string, string, string, string]>([
    ["a version no client runs (empty result)", BAD.replace("{{version}}", "{{version}}9"), TOTAL, "no-data"],
    [
      "a misspelt metric (empty result, never read as zero)",
      BAD.replace("http_requests_total", "http_request_total"),
      TOTAL,
      "no-data",
    ],
    ["0/0", `${BAD} * 0 / 0`, TOTAL, "not-a-number"],
    ["a syntax error", `${BAD} +`, TOTAL, "query-failed"],
    [
      "more than one series",
      'increase(http_requests_total{strata_config_version="{{version}}"}[{{window}}])',
      TOTAL,
      "query-failed",
    ],
  ])("%s is an inconclusive signal", async (_, bad, total, reason) => {
    const client = createPrometheusClient({ url: prometheus.url });
    const g = gate(bad, total);
    const signal = await prometheusGateSignal(client, g, {
      environment: "production",
      service: null,
      candidateVersion: 42,
      stableVersion: 41,
      from: from - 60_000,
      at: Date.now(),
    });
    expect(signal).toMatchObject({ kind: "unavailable", reason });
    expect(evaluateGate(g, signal, 0.01)).toMatchObject({ verdict: "inconclusive", reason });
  });

  it("an unreachable Prometheus is a failed query, not a pass", async () => {
    const client = createPrometheusClient({ url: `http://127.0.0.1:${await freePort()}` });
    expect(await client.query("vector(1)", Date.now())).toMatchObject({ ok: false, reason: "query-failed" });
  });
});

describe("hostile or broken query endpoints", () => {
  let server: Server;
  let url: string;
  let answer: (res: import("node:http").ServerResponse) => void = (res) => res.end();
  beforeAll(async () => {
    server = createServer((_req, res) => answer(res));
    const port = await freePort();
    await new Promise<void>((r) => server.listen(port, "127.0.0.1", r));
    url = `http://127.0.0.1:${port}`;
  });
  afterAll(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });

  it.each<[string, (res: import("node:http").ServerResponse) => void, RegExp]>([
    [
      "an answer larger than the cap",
      (res) => res.end(JSON.stringify({ status: "success", pad: "x".repeat(2 << 20) })),
      /more than 1048576 bytes/,
    ],
    [
      "an HTML error page",
      (res) => res.writeHead(502, { "content-type": "text/html" }).end("<html>bad gateway</html>"),
      /answered 502 with a body that is not JSON/,
    ],
    [
      "a Prometheus error",
      (res) =>
        res.writeHead(422).end(JSON.stringify({ status: "error", errorType: "execution", error: "query timed out" })),
      /execution: query timed out/,
    ],
    [
      "a matrix",
      (res) => res.end(JSON.stringify({ status: "success", data: { resultType: "matrix", result: [] } })),
      /returned a matrix/,
    ],
  ])("%s is a failed query", async (_, respond, message) => {
    answer = respond;
    const r = await createPrometheusClient({ url }).query("x", Date.now());
    expect(r).toMatchObject({ ok: false, reason: "query-failed" });
    if (!r.ok) expect(r.detail).toMatch(message);
  });

  it("credentials in the URL go as Basic authentication; the URL in messages has none", async () => {
    let seen: string | undefined;
    answer = (res) => res.writeHead(503).end("unavailable");
    server.removeAllListeners("request");
    server.on("request", (req, res) => {
      seen = req.headers.authorization;
      answer(res);
    });
    const r = await createPrometheusClient({ url: url.replace("http://", "http://reader:s3cret@") }).query(
      "x",
      Date.now(),
    );
    expect(seen).toBe(`Basic ${Buffer.from("reader:s3cret").toString("base64")}`);
    expect(r).toMatchObject({ ok: false, reason: "query-failed" });
    expect(JSON.stringify(r)).not.toContain("s3cret");
  });

  it("an endpoint that never answers times out as a failed query", async () => {
    answer = () => undefined; // keeps the connection open
    const r = await createPrometheusClient({ url, timeoutMs: 200 }).query("x", Date.now());
    expect(r).toMatchObject({ ok: false, reason: "query-failed", detail: expect.stringMatching(/timed out/) });
  });

  it.each([
    ["NaN", "not-a-number"],
    ["+Inf", "not-a-number"],
    ["-Inf", "not-a-number"],
    ["12.5", null],
  ])("a sample value of %s", (value, reason) => {
    const r = readAnswer(
      { status: "success", data: { resultType: "vector", result: [{ metric: {}, value: [1, value] }] } },
      200,
    );
    expect(reason === null ? r : !r.ok && r.reason).toEqual(reason === null ? { ok: true, value: 12.5 } : reason);
  });
});
