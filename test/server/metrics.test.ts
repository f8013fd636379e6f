// @module-tag e2e
// The fleet in `/metrics`: clients per environment and version, refusals by code, propagation latency,
// scraped from the real `strata serve` (the built CLI) by a real Prometheus (Debian's package), which refuses
// a malformed exposition (`up` would be 0), and read back with PromQL the way a Grafana board would.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { createPrometheusClient } from "../../src/io/prometheus/client.js";
import { startEndpoint, type Endpoint } from "../client/support.js";
import { startPrometheus, type PrometheusHandle } from "../io/prometheus/daemons.js";
import { cleanupTempdirs } from "../support/gitdir.js";
import { lacking } from "../support/shared.js";

const missing = lacking("the /metrics scrape tests", { tool: "prometheus" });

/** A client's read of staging, identified as the SDK does it (the header's UTF-8 bytes). */
async function read(header: string, method = "GET"): Promise<void> {
  const r = await fetch(`${ep.url}/v1/environments/staging/snapshot`, {
    method,
    headers: { "strata-client": Buffer.from(header).toString("latin1") },
  });
  expect(r.status).toBe(200);
  await r.body?.cancel();
}

let ep: Endpoint;
let prometheus: PrometheusHandle;

beforeAll(async () => {
  if (missing) return;
  ep = await startEndpoint();
  await ep.publish({ app: { name: "one" } });
  prometheus = await startPrometheus([Number(new URL(ep.url).port)]);
}, 180_000);

afterAll(async () => {
  await prometheus?.stop();
  await ep?.stop();
  cleanupTempdirs();
});

describe.skipIf(missing)("/metrics (scraped by a real Prometheus)", { timeout: 180_000 }, () => {
  it("exports clients per environment and version, refusals by code (each once), and propagation latency", async () => {
    await read("service=api; instance=a; version=1; kind=sdk");
    await read("service=api; instance=b; version=1; kind=sdk");
    await read("service=worker; instance=東京; version=1; kind=agent");
    // One refusal, reported on three requests: counted once.
    for (let i = 0; i < 3; i++)
      await read("service=api; instance=c; version=0; kind=agent; rejected=1; reason=invalid-signature", "HEAD");
    await ep.publish({ app: { name: "two" } });
    // Two clients move to the new version: two propagation samples.
    await read("service=api; instance=a; version=2; kind=sdk");
    await read("service=worker; instance=東京; version=2; kind=agent");

    // Strictly: every sample line of the fleet's metrics, as written.
    const text = await (await fetch(`${ep.url}/metrics`)).text();
    expect(text).toMatch(/^# TYPE strata_clients gauge$/m);
    expect(text).toMatch(/^strata_clients\{environment="staging",version="2"\} 2$/m);
    expect(text).toMatch(/^strata_clients\{environment="staging",version="1"\} 1$/m);
    expect(text).toMatch(/^strata_clients\{environment="staging",version="0"\} 1$/m);
    expect(text).toMatch(/^# TYPE strata_client_rejections_total counter$/m);
    expect(text).toMatch(/^strata_client_rejections_total\{environment="staging",reason="invalid-signature"\} 1$/m);
    expect(text).toMatch(/^# TYPE strata_client_propagation_seconds histogram$/m);
    expect(text).toMatch(/^strata_client_propagation_seconds_bucket\{environment="staging",le="\+Inf"\} 2$/m);
    expect(text).toMatch(/^strata_client_propagation_seconds_count\{environment="staging"\} 2$/m);

    // One family on its own (what the dashboard's fleet page reads).
    const one = await (await fetch(`${ep.url}/metrics?name=strata_client_propagation_seconds`)).text();
    expect(one.split("\n").filter((l) => l !== "" && !l.startsWith("strata_client_propagation_seconds"))).toEqual([
      "# HELP strata_client_propagation_seconds From a version's publish to a client's first request running it (clients that moved to the current version), by environment.",
      "# TYPE strata_client_propagation_seconds histogram",
    ]);
    expect(one).toContain('strata_client_propagation_seconds_count{environment="staging"} 2\n');

    const client = createPrometheusClient({ url: prometheus.url });
    const value = async (q: string): Promise<number> => {
      const a = await client.query(q, Date.now());
      if (!a.ok) throw new Error(`${q}: ${a.reason} ${a.detail}`);
      return a.value;
    };
    // Readiness by signal: a scrape taken after the moves (its count is there).
    await vi.waitFor(
      async () => expect(await value('strata_client_propagation_seconds_count{environment="staging"}')).toBe(2),
      {
        timeout: 120_000,
        interval: 250,
      },
    );
    expect(await value('up{job="synthetic"}')).toBe(1);
    expect(await value('sum(strata_clients{environment="staging"})')).toBe(4);
    expect(await value('strata_clients{environment="staging",version="2"}')).toBe(2);
    expect(await value('strata_client_rejections_total{reason="invalid-signature"}')).toBe(1);
    expect(await value('sum(strata_client_propagation_seconds_bucket{environment="staging",le="+Inf"})')).toBe(2);
    const p50 = await value(
      'histogram_quantile(0.5, sum by (le) (strata_client_propagation_seconds_bucket{environment="staging"}))',
    );
    expect(Number.isFinite(p50)).toBe(true);
    expect(p50).toBeGreaterThanOrEqual(0);
  });
});
