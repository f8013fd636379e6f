// A real Prometheus (Debian's `prometheus` package) scraping a synthetic service, for the gate tests. Both run
// on free ports; Prometheus gets a temporary config and data directory and dies with the test's worker however
// the file ends (killOnExit), or when stop() is called.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer as createHttpServer, type Server } from "node:http";
import { createServer as createNetServer } from "node:net";
import { join } from "node:path";
import { killOnExit } from "../../support/daemons.js";
import { tempdir } from "../../support/gitdir.js";
import { findTool } from "../../support/shared.js";

const prometheusBinary = findTool("prometheus");

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createNetServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/** Per version: requests and errors added at every scrape. */
export type Traffic = Record<string, { requests: number; errors: number }>;

export interface SyntheticService {
  port: number;
  /** How many times Prometheus has scraped it: the readiness signal (no sleeps). */
  scrapes(): number;
  close(): Promise<void>;
}

/**
 * A service exporting what the SDK and the agent will export: `strata_config_version` on every series, so
 * any metric can be split by the config version a process runs. Each scrape advances the counters by one
 * round of `traffic`, so the counts Prometheus sees are exact multiples of it.
 */
export async function startSyntheticService(traffic: Traffic): Promise<SyntheticService> {
  let scrapes = 0;
  const totals = new Map(Object.keys(traffic).map((v) => [v, { ok: 0, errors: 0 }]));
  const server: Server = createHttpServer((req, res) => {
    if (req.url !== "/metrics") {
      res.writeHead(404).end();
      return;
    }
    scrapes++;
    const lines = [
      "# HELP http_requests_total Requests served, by config version and status class.",
      "# TYPE http_requests_total counter",
    ];
    for (const [version, t] of Object.entries(traffic)) {
      const total = totals.get(version)!;
      total.ok += t.requests - t.errors;
      total.errors += t.errors;
      lines.push(`http_requests_total{strata_config_version="${version}",code="200"} ${total.ok}`);
      lines.push(`http_requests_total{strata_config_version="${version}",code="500"} ${total.errors}`);
    }
    lines.push(
      "# HELP strata_config_version The config version this process runs.",
      "# TYPE strata_config_version gauge",
    );
    for (const version of Object.keys(traffic))
      lines.push(`strata_config_version{strata_config_version="${version}"} 1`);
    res.writeHead(200, { "content-type": "text/plain; version=0.0.4" }).end(lines.join("\n") + "\n");
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", resolve));
  return {
    port,
    scrapes: () => scrapes,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface PrometheusHandle {
  url: string;
  stop(): Promise<void>;
}

/** Starts Prometheus scraping `targets` (every second by default); resolves when /-/ready answers. */
export async function startPrometheus(
  targets: number[],
  options: { scrapeInterval?: string } = {},
): Promise<PrometheusHandle> {
  const interval = options.scrapeInterval ?? "1s";
  if (prometheusBinary === null) throw new Error("no prometheus binary");
  const dir = tempdir("strata-prometheus-");
  const config = join(dir, "prometheus.yml");
  writeFileSync(
    config,
    [
      "global:",
      `  scrape_interval: ${interval}`,
      `  evaluation_interval: ${interval}`,
      "scrape_configs:",
      "  - job_name: synthetic",
      "    static_configs:",
      `      - targets: [${targets.map((p) => `"127.0.0.1:${p}"`).join(", ")}]`,
      "",
    ].join("\n"),
  );
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const child: ChildProcess = spawn(
    prometheusBinary,
    [
      `--config.file=${config}`,
      `--storage.tsdb.path=${join(dir, "data")}`,
      `--web.listen-address=127.0.0.1:${port}`,
      "--log.level=error",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  killOnExit(child);
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
  // Generous: on a loaded machine Prometheus takes seconds to open its TSDB. Readiness, not a timing claim.
  const deadline = Date.now() + 120_000;
  for (;;) {
    try {
      if ((await fetch(`${url}/-/ready`)).ok) break;
    } catch {
      // not listening yet
    }
    if (child.exitCode !== null || Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`prometheus did not start: ${err}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null || child.signalCode !== null) return resolve();
        child.once("exit", () => resolve());
        child.kill("SIGKILL");
      }),
  };
}
