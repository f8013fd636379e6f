/** A few Prometheus metrics, written in the text exposition format (version 0.0.4), and their route. */
import type { ServerResponse } from "node:http";

const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

function labelText(labels: Record<string, string>): string {
  const parts = Object.entries(labels).map(
    ([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`,
  );
  return parts.length === 0 ? "" : `{${parts.join(",")}}`;
}

// Series are keyed by their label values joined (cheap on the hot path); label text is built at render.
function seriesKey(labels: Record<string, string>): string {
  let k = "";
  for (const v of Object.values(labels)) k += v + "\u0000";
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
  ) {}
  observe(seconds: number, labels: Record<string, string> = {}): void {
    const k = seriesKey(labels);
    let s = this.series.get(k);
    if (s === undefined) this.series.set(k, (s = { labels, counts: BUCKETS.map(() => 0), sum: 0, count: 0 }));
    // One bucket per observation; render() makes them cumulative.
    let i = 0;
    while (i < BUCKETS.length && seconds > BUCKETS[i]!) i++;
    if (i < BUCKETS.length) s.counts[i]!++;
    s.sum += seconds;
    s.count++;
  }
  render(): string {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      let cumulative = 0;
      BUCKETS.forEach((b, i) =>
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
  render(): string;
}

export function createMetrics(
  watchers: () => { longpoll: number; sse: number },
  versions: () => [string, number][],
  load: () => { connections: number; environments: number } = () => ({ connections: 0, environments: 0 }),
): ServerMetrics {
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
  return {
    requests,
    latency,
    published,
    pushToNotify,
    refusedConnections,
    render: () =>
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
      ]
        .map((m) => m.render())
        .join("\n") + "\n",
  };
}

/** `GET /metrics`. */
export function sendMetrics(res: ServerResponse, metrics: ServerMetrics): void {
  const text = metrics.render();
  res.writeHead(200, {
    "content-type": "text/plain; version=0.0.4; charset=utf-8",
    "content-length": Buffer.byteLength(text),
  });
  res.end(text);
}
