/**
 * A few Prometheus metrics, written in the text exposition format (version 0.0.4), and their route: the
 * server's requests and publishes, and the fleet (clients per environment and version, their refusals,
 * propagation latency), so a Grafana board can show what the dashboard's fleet page shows.
 */
import type { ServerResponse } from "node:http";
import type { ClientRecord } from "../core/protocol/index.js";
import type { ClientEvents } from "./clients.js";

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];
/** Propagation: from a version's publish to a client running it (seconds to tens of minutes). */
const PROPAGATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800];

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
  );
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

// Series are keyed by their label values joined (cheap on the hot path); label text is built at render.
function seriesKey(labels: Record<string, string>): string {
  let k = "";
  // for-in over a literal's own keys (no array of values made per request)
  for (const name in labels) k += labels[name] + "\u0000";
  return k;
}

class Counter {
  private readonly values = new Map<string, { labels: Record<string, string>; value: number }>();
  constructor(
    readonly name: string,
    readonly help: string,
  ) {}
  inc(labels: Record<string, string> = {}, by = 1): void {
    const k = seriesKey(labels);
    const s = this.values.get(k);
    if (s === undefined) this.values.set(k, { labels, value: by });
    else s.value += by;
  }
  render(): string {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} counter`,
      ...[...this.values.values()].map((s) => `${this.name}${labelText(s.labels)} ${s.value}`),
    ].join("\n");
  }
}

class Gauge {
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly read: () => [Record<string, string>, number][],
  ) {}
  render(): string {
    return [
      `# HELP ${this.name} ${this.help}`,
      `# TYPE ${this.name} gauge`,
      ...this.read().map(([l, v]) => `${this.name}${labelText(l)} ${v}`),
    ].join("\n");
  }
}

class Histogram {
  private readonly series = new Map<
    string,
    { labels: Record<string, string>; counts: number[]; sum: number; count: number }
  >();
  constructor(
    readonly name: string,
    readonly help: string,
    private readonly buckets: readonly number[] = BUCKETS,
  ) {}
  observe(seconds: number, labels: Record<string, string> = {}): void {
    const k = seriesKey(labels);
    let s = this.series.get(k);
    if (s === undefined) this.series.set(k, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    // One bucket per observation; render() makes them cumulative.
    let i = 0;
    while (i < this.buckets.length && seconds > this.buckets[i]!) i++;
    if (i < this.buckets.length) s.counts[i]!++;
    s.sum += seconds;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      let cumulative = 0;
      this.buckets.forEach((b, i) =>
        lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${(cumulative += s.counts[i]!)}`),
      );
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}`);
      lines.push(
        `${this.name}_sum${labelText(s.labels)} ${s.sum}`,
        `${this.name}_count${labelText(s.labels)} ${s.count}`,
      );
    }
    return lines.join("\n");
  }
}

export interface ServerMetrics {
  requests: Counter;
  latency: Histogram;
  published: Counter;
  pushToNotify: Histogram;
  /** Connections closed at accept: over the total or the per-address cap. */
  refusedConnections: Counter;
  /** Refusals clients reported (a new one per client and version), by environment and code. */
  clientRejections: Counter;
  /** From a version's publish to a client's first request running it, by environment. */
  propagation: Histogram;
  /** The exposition text: every family, or only those named. */
  render(names?: ReadonlySet<string>): string;
}

/** Where the metrics read what they do not count themselves. */
export interface MetricSources {
  watchers: () => { longpoll: number; sse: number };
  versions: () => [string, number][];
  load: () => { connections: number; environments: number };
  /** The fleet: every client record this server knows. */
  clients: () => ClientRecord[];
  /** When `version` of `environment` was published, if this server knows (its current version). */
  publishedAt: (environment: string, version: number) => string | null;
}

export function createMetrics(sources: MetricSources): ServerMetrics {
  const { watchers, versions, load } = sources;
  const requests = new Counter("strata_http_requests_total", "HTTP requests by method, route and status.");
  const latency = new Histogram(
    "strata_http_request_duration_seconds",
    "HTTP request latency by route (long-polls and event streams excluded).",
  );
  const published = new Counter(
    "strata_versions_published_total",
    "Versions published through this server, by environment and action.",
  );
  const pushToNotify = new Histogram(
    "strata_push_to_notify_seconds",
    "From a version's publish in the store to its notification of this server's watchers.",
  );
  const watcherGauge = new Gauge("strata_watchers", "Open long-polls and event streams.", () => {
    const w = watchers();
    return [
      [{ kind: "longpoll" }, w.longpoll],
      [{ kind: "sse" }, w.sse],
    ];
  });
  const versionGauge = new Gauge("strata_current_version", "The current version of each environment.", () =>
    versions().map(([e, v]) => [{ environment: e }, v]),
  );
  const refusedConnections = new Counter(
    "strata_connections_refused_total",
    "Connections closed at accept, by reason (total or per-address cap).",
  );
  const connectionGauge = new Gauge("strata_open_connections", "Open TCP connections.", () => [
    [{}, load().connections],
  ]);
  const environmentGauge = new Gauge(
    "strata_tracked_environments",
    "Environments this server holds state for (published ones, and unpublished ones with a waiting client).",
    () => [[{}, load().environments]],
  );
  const clientRejections = new Counter(
    "strata_client_rejections_total",
    "Snapshots clients refused (each client's refusal of a version counted once), by environment and code.",
  );
  const propagation = new Histogram(
    "strata_client_propagation_seconds",
    "From a version's publish to a client's first request running it (clients that moved to the current version), by environment.",
    PROPAGATION_BUCKETS,
  );
  const clientGauge = new Gauge(
    "strata_clients",
    "Clients heard from in the last 15 minutes, by environment and the version they run (0: none yet).",
    () => {
      const counts = new Map<string, [Record<string, string>, number]>();
      for (const c of sources.clients()) {
        const k = `${c.environment}\u0000${c.version}`;
        const e = counts.get(k);
        if (e === undefined) counts.set(k, [{ environment: c.environment, version: String(c.version) }, 1]);
        else e[1]++;
      }
      return [...counts.values()];
    },
  );
  return {
    requests,
    latency,
    published,
    pushToNotify,
    refusedConnections,
    clientRejections,
    propagation,
    render: (names) =>
      [
        requests,
        latency,
        published,
        pushToNotify,
        refusedConnections,
        watcherGauge,
        versionGauge,
        connectionGauge,
        environmentGauge,
        clientGauge,
        clientRejections,
        propagation,
      ]
        .filter((m) => names === undefined || names.has(m.name))
        .map((m) => m.render())
        .join("\n") + "\n",
  };
}

/** What the client tracker tells the metrics: refusals counted, moves to a published version timed. */
export function clientMetrics(metrics: ServerMetrics, sources: Pick<MetricSources, "publishedAt">): ClientEvents {
  return {
    rejected: (r) => {
      if (r.rejected !== null) metrics.clientRejections.inc({ environment: r.environment, reason: r.rejected.reason });
    },
    moved: (r) => {
      const published = sources.publishedAt(r.environment, r.version);
      if (published === null) return;
      metrics.propagation.observe(Math.max(0, Date.parse(r.since) - Date.parse(published)) / 1000, {
        environment: r.environment,
      });
    },
  };
}

/**
 * `GET /metrics`; `?name=FAMILY` (repeatable) answers only those families, so a reader that wants one (the
 * dashboard's propagation histogram) does not download them all.
 */
export function sendMetrics(res: ServerResponse, metrics: ServerMetrics, query: URLSearchParams | null): void {
  const names = query?.getAll("name") ?? [];
  const text = metrics.render(names.length === 0 ? undefined : new Set(names));
  res.writeHead(200, {
    "content-type": "text/plain; version=0.0.4; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}
