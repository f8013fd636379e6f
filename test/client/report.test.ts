// @module-tag e2e
// The SDK's health reports, its running-version exports and its instance id, against the real `strata serve`:
// the batch on the wire (a fixed vector, and what the endpoint takes), a dead endpoint costing no memory
// (batches dropped, never kept), `strata_config_version` / `strata.config.version`, and the default instance
// id surviving a restart of the process.
import { spawn } from "node:child_process";
import { writeFileSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { createClient, StrataClient } from "../../src/client/index.js";
import { reportBatch } from "../../src/client/reporter.js";
import { defaultInstance } from "../../src/client/options.js";
import { MAX_REPORTS_PER_BATCH, type HealthReportBatch } from "../../src/core/protocol/rollout.js";
import { parseHealthReport } from "../../src/core/rollout/reports.js";
import { projectRoot } from "../support/cli.js";
import { startEndpoint, testBackoff, waitFor, type Endpoint } from "./support.js";

const endpoints: Endpoint[] = [];
const clients: StrataClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const e of endpoints.splice(0)) await e.stop();
});

async function endpoint(): Promise<Endpoint> {
  const ep = await startEndpoint();
  endpoints.push(ep);
  return ep;
}

/** An endpoint with staging v1 published and a client of it (checkout, `instance`), both closed after the test. */
async function clientOfV1(
  instance: string,
  options: Partial<Parameters<typeof createClient>[0]> = {},
): Promise<{ ep: Endpoint; c: StrataClient }> {
  const ep = await endpoint();
  await ep.publish({ app: { name: "demo" } });
  const c = await createClient({
    endpoint: ep.url,
    environment: "staging",
    service: "checkout",
    instance,
    trustedKeys: [ep.publicKey],
    ...options,
  });
  clients.push(c);
  return { ep, c };
}

/** `fetch` that records the health report batches the client POSTs (then sends them on, unchanged). */
function recordingFetch(batches: HealthReportBatch[]): typeof fetch {
  return async (input, init) => {
    if (init?.method === "POST" && String(input).endsWith("/reports"))
      batches.push(JSON.parse(String(init.body)) as HealthReportBatch);
    return fetch(input, init);
  };
}

describe("health report batches", () => {
  it("the wire shape is the protocol's (fixed vector), and every report passes the endpoint's check", () => {
    const batch = reportBatch(
      [
        { version: 7, requests: 3, errors: 1, count: 2, sum: 30, sumSquares: 500 },
        { version: 8, requests: 0, errors: 0, count: 0, sum: 0, sumSquares: 0 },
        { version: 9, requests: 5, errors: 0, count: 0, sum: 0, sumSquares: 0 },
      ],
      "pod-a",
      4999.6,
    );
    expect(JSON.stringify(batch)).toBe(
      '{"reports":[' +
        '{"instance":"pod-a","version":7,"requests":3,"errors":1,"intervalMs":5000,"latency":{"count":2,"sum":30,"sumSquares":500}},' +
        '{"instance":"pod-a","version":9,"requests":5,"errors":0,"intervalMs":5000}]}',
    );
    for (const r of batch.reports) expect(parseHealthReport(r)).toEqual({ ok: true, report: r });
  });

  it("report() sums per version and a batch goes out every reportIntervalMs; nothing is sent twice", async () => {
    const batches: HealthReportBatch[] = [];
    const { c } = await clientOfV1("pod-r", { reportIntervalMs: 100, fetch: recordingFetch(batches) });
    c.report({ requests: 1, latencyMs: 10 });
    c.report({ requests: 1, errors: 1, latencyMs: 20 });
    c.report({ requests: 3, errors: 0, latencyMs: [1, 2, 3, 4] });
    c.report();
    await waitFor(() => batches.length > 0, "the first batch");
    expect(batches[0]!.reports).toHaveLength(1);
    const { intervalMs, ...report } = batches[0]!.reports[0]!;
    expect(report).toEqual({
      instance: "pod-r",
      version: 1,
      requests: 6,
      errors: 1,
      // 10, 20 and three of the four samples (at most one per request of the call).
      latency: { count: 5, sum: 36, sumSquares: 100 + 400 + 1 + 4 + 9 },
    });
    expect(Number.isSafeInteger(intervalMs) && intervalMs >= 1).toBe(true);
    expect(parseHealthReport(batches[0]!.reports[0]).ok).toBe(true);
    // Nothing more was reported: no second batch is made, whatever the endpoint answered.
    c.report({ requests: 2 });
    await waitFor(() => batches.length > 1, "the second batch");
    expect(batches[1]!.reports.map((r) => r.requests)).toEqual([2]);
    expect(c.reportStats().pending).toBe(0);
  });

  it("numbers that cannot be counts are refused at the call, and count nothing", async () => {
    const { c } = await clientOfV1("pod-x");
    for (const bad of [
      { requests: -1 },
      { requests: 1.5 },
      { requests: 1, errors: 2 },
      { latencyMs: -3 },
      { latencyMs: Number.NaN },
      { latencyMs: 4_000_000 },
      { latencyMs: [1, "2"] as never },
    ])
      expect(() => c.report(bad), JSON.stringify(bad)).toThrow(expect.objectContaining({ code: "invalid-argument" }));
    expect(c.reportStats().pending).toBe(0);
  });

  it("a dead endpoint costs no memory: each batch is dropped, never kept or sent again", async () => {
    const batches: HealthReportBatch[] = [];
    const { ep, c } = await clientOfV1("pod-d", {
      reportIntervalMs: 100,
      backoff: testBackoff,
      fetch: recordingFetch(batches),
    });
    await ep.stop();
    let reported = 0;
    // Report across many intervals while nothing answers: what accumulates is one version's totals.
    while (c.reportStats().dropped < 5) {
      for (let i = 0; i < 1000; i++) c.report({ requests: 1, latencyMs: 5 });
      reported += 1000;
      expect(c.reportStats().pending).toBeLessThanOrEqual(1);
      await new Promise((r) => setImmediate(r));
      await waitFor(() => c.reportStats().pending === 0 || c.reportStats().dropped >= 5, "a flush", 30_000);
    }
    // Every attempt carried only what was new since the one before: the sum never exceeds what was reported.
    const sent = batches.flatMap((b) => b.reports).reduce((n, r) => n + r.requests, 0);
    expect(sent).toBeLessThanOrEqual(reported);
    for (const b of batches) expect(b.reports.length).toBeLessThanOrEqual(MAX_REPORTS_PER_BATCH);
    expect(c.reportStats().sent).toBe(0);
  });
});

describe("the version in use, for metrics", () => {
  it("metricsText(), metricLabels() and resourceAttributes() follow the version in use", async () => {
    const { ep, c } = await clientOfV1("pod-m", { service: 'check"out', backoff: testBackoff });
    expect(c.metricsText()).toBe(
      "# HELP strata_config_version The configuration version this process runs.\n" +
        "# TYPE strata_config_version gauge\n" +
        'strata_config_version{environment="staging",service="check\\"out"} 1\n',
    );
    expect(c.metricLabels()).toEqual({ strata_config_version: "1" });
    expect(c.resourceAttributes()).toEqual({
      "strata.config.version": "1",
      "strata.config.environment": "staging",
      "service.instance.id": "pod-m",
    });
    const changed = new Promise((r) => c.on("change", r));
    await ep.publish({ app: { name: "demo", replicas: 2 } });
    await changed;
    expect(c.metricsText()).toContain('strata_config_version{environment="staging",service="check\\"out"} 2\n');
    expect(c.resourceAttributes()["strata.config.version"]).toBe("2");
  });
});

describe("the version in use, for the endpoint", () => {
  it("each request says how long the version has been in use (`running`), so a late confirmation dates the switch", async () => {
    const sent: string[] = [];
    const { ep, c } = await clientOfV1("pod-h", {
      backoff: testBackoff,
      fetch: async (input, init) => {
        sent.push(new Headers(init?.headers).get("strata-client") ?? "");
        return fetch(input, init);
      },
    });
    const changed = new Promise((r) => c.on("change", r));
    await ep.publish({ app: { name: "demo", replicas: 2 } });
    await changed;
    await waitFor(() => sent.some((h) => /; version=2; kind=sdk; running=\d+$/.test(h)), "a request running v2");
    // Before the first version there is nothing to time; once a version runs, every request says for how long.
    for (const h of sent)
      expect(h).toMatch(
        /^service=checkout; instance=pod-h; (version=0; kind=sdk|version=[12]; kind=sdk; running=\d+)$/,
      );
    expect(sent[0]).toBe("service=checkout; instance=pod-h; version=0; kind=sdk");
  });
});

describe("the instance id", () => {
  it("defaults to STRATA_INSTANCE, else the host name: a restarted process keeps it (and its cohort)", async () => {
    expect(defaultInstance({ STRATA_INSTANCE: "pod-7" })).toBe("pod-7");
    expect(defaultInstance({ STRATA_INSTANCE: "a b;c=d,e" })).toBe("a_b_c_d_e");
    expect(defaultInstance({})).toBe(defaultInstance({ STRATA_INSTANCE: "" }));
    expect(defaultInstance({})).toBe(
      hostname()
        .replace(/[^\x21-\x7e]|[;=,]/g, "_")
        .slice(0, 128),
    );

    const ep = await endpoint();
    await ep.publish({ app: { name: "demo" } });
    // Two runs of one program (two pids): the endpoint's fleet status has one instance, the host's name.
    const script = join(projectRoot, `.sdk-instance-${process.pid}.mjs`);
    writeFileSync(
      script,
      `import { createClient } from "strata-config/client";
const c = await createClient({ endpoint: process.argv[2], environment: "staging", service: "restarts", trustedKeys: [process.argv[3]] });
console.log(process.pid + " " + c.resourceAttributes()["service.instance.id"]);
await c.close();`,
    );
    const env = { ...process.env };
    delete env.STRATA_INSTANCE;
    const runOnce = (): Promise<string> =>
      new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [script, ep.url, ep.publicKey], { cwd: projectRoot, env });
        let out = "";
        let err = "";
        child.stdout.on("data", (d: Buffer) => (out += d.toString()));
        child.stderr.on("data", (d: Buffer) => (err += d.toString()));
        child.once("exit", (code) => (code === 0 ? resolve(out.trim()) : reject(new Error(err))));
      });
    try {
      const [pid1, id1] = (await runOnce()).split(" ");
      const [pid2, id2] = (await runOnce()).split(" ");
      expect(pid1).not.toBe(pid2);
      expect(id1).toBe(defaultInstance({}));
      expect(id2).toBe(id1);
      const status = (await (await fetch(`${ep.url}/v1/status`)).json()) as {
        clients: { service: string; instance: string }[];
      };
      expect(status.clients.filter((r) => r.service === "restarts").map((r) => r.instance)).toEqual([id1]);
    } finally {
      rmSync(script, { force: true });
    }
  });

  it("an instance id the header or the reports could not carry is refused", async () => {
    for (const instance of ["", "a b", "a;b", "x".repeat(129), "a\u202eb", "a\u0007b"])
      await expect(
        createClient({
          endpoint: "http://127.0.0.1:9",
          environment: "staging",
          service: "s",
          instance,
          trustedKeys: ["ed25519:" + Buffer.alloc(32).toString("base64")],
        }),
      ).rejects.toMatchObject({ code: "invalid-argument" });
  });
});
