/**
 * Health reports (`client.report()`): what the service saw on the configuration version it ran, sent to the
 * endpoint in batches (`POST {chain}/reports`, core/protocol/rollout.ts) for the rollout's gates. The hot path
 * adds to a few numbers (requests, errors, latency count/sum/sum of squares) of the version in use: no
 * allocation, no I/O. A timer sends what accumulated every `reportIntervalMs` and starts again from zero,
 * whether the endpoint took it or not: a batch that fails is dropped, never kept for later, so an endpoint
 * that is down costs no memory (at most one batch in flight; versions per batch bounded).
 *
 * The batch also says what the client itself refused since the last one (snapshots by rejection code, plans by
 * refusal: the client's `error` events) and whether the configuration it runs is stale, on the report of the
 * version in use: what the rollout status shows per cohort. Counted only by a client that reports.
 */
import { MAX_REPORTS_PER_BATCH, ROLLOUT_PATHS, type HealthReportBatch } from "../core/protocol/rollout.js";
import { MAX_REJECTIONS_PER_CODE } from "../core/rollout/reports.js";
import type { HealthReport, ReportedRejections, Staleness } from "../core/rollout/reports.js";
import type { Connection } from "./connection.js";
import { StrataClientError } from "./errors.js";
import type { Lifetime } from "./lifetime.js";
import type { Settings } from "./options.js";

/** What one call of `report()` adds. */
export interface ReportInput {
  /** Requests served (default 1). */
  requests?: number;
  /** How many of them failed (default 0). */
  errors?: number;
  /**
   * The latency of one of them in milliseconds (a sample: pass it with each request, or not at all), or of
   * several (at most `requests` samples count).
   */
  latencyMs?: number | readonly number[];
}

/** What the reporter did so far (for metrics and tests). */
export interface ReportStats {
  /** Batches the endpoint accepted (2xx). */
  sent: number;
  /** Batches dropped: the endpoint refused or did not answer, or one was still in flight. */
  dropped: number;
  /** Reports (one per version and batch) the endpoint refused by name. */
  refused: number;
  /** Versions accumulating now (bounded by the batch size). */
  pending: number;
}

/** One version's totals since the last batch. */
interface Totals {
  version: number;
  requests: number;
  errors: number;
  count: number;
  sum: number;
  sumSquares: number;
}

/** An hour: the most one latency sample may be (the endpoint refuses a larger mean). */
const MAX_LATENCY_MS = 3_600_000;

const latencies = (l: unknown): boolean =>
  Array.isArray(l) && l.every((x) => typeof x === "number" && x >= 0 && x <= MAX_LATENCY_MS);

function refuseCounts(requests: unknown, errors: unknown): never {
  throw new StrataClientError(
    "invalid-argument",
    `report(): requests and errors must be whole numbers, 0 ≤ errors ≤ requests (got ${String(requests)}, ${String(errors)})`,
  );
}

function refuseLatency(latency: unknown): never {
  throw new StrataClientError(
    "invalid-argument",
    `report(): latencyMs must be milliseconds from 0 to ${MAX_LATENCY_MS}, or a list of them (got ${String(latency).slice(0, 40)})`,
  );
}

/** What the client says of itself, on the report of the version it runs. */
interface OwnState {
  version: number;
  rejected: ReportedRejections | null;
  stale: Staleness | null;
}

/** A batch as the wire carries it (exported for its fixed vector). */
export function reportBatch(
  totals: Iterable<Totals>,
  instance: string,
  intervalMs: number,
  own?: OwnState,
): HealthReportBatch {
  const reports: HealthReport[] = [];
  const says = own !== undefined && own.version > 0 && (own.rejected !== null || own.stale !== null);
  const all = [...totals];
  const ownTotals = says ? all.find((t) => t.version === own.version) : undefined;
  // The version in use first: a full batch never leaves out what the client says of itself.
  const ordered = says
    ? [
        ownTotals ?? { version: own.version, requests: 0, errors: 0, count: 0, sum: 0, sumSquares: 0 },
        ...all.filter((t) => t !== ownTotals),
      ]
    : all;
  for (const t of ordered) {
    const isOwn = says && t.version === own.version;
    if (t.requests === 0 && !isOwn) continue;
    const report: HealthReport = {
      instance,
      version: t.version,
      requests: t.requests,
      errors: t.errors,
      intervalMs: Math.max(1, Math.round(intervalMs)),
    };
    if (t.count > 0) report.latency = { count: t.count, sum: t.sum, sumSquares: t.sumSquares };
    if (isOwn && own.rejected !== null) report.rejected = own.rejected;
    if (isOwn && own.stale !== null) report.stale = own.stale;
    reports.push(report);
    if (reports.length === MAX_REPORTS_PER_BATCH) break;
  }
  return { reports };
}

export class Reporter {
  private readonly totals = new Map<number, Totals>();
  /** The totals of the version in use: the hot path adds to them (null: look them up, or start them). */
  private live: Totals | null = null;
  private since = Date.now();
  private timer: NodeJS.Timeout | null = null;
  private inFlight = false;
  private readonly counts = { sent: 0, dropped: 0, refused: 0 };
  /** What the client refused since the last batch, by code (bounded: the codes are a fixed set). */
  private readonly refusals = { snapshot: new Map<string, number>(), plan: new Map<string, number>() };
  /** report() was called: the service reports, so the client's own refusals go out too. */
  private used = false;

  constructor(
    private readonly settings: Settings,
    private readonly lifetime: Lifetime,
    private readonly connection: Connection,
    /** The version in use now. */
    private readonly version: () => number,
    /** Whether the configuration in use is stale now, and why. */
    private readonly staleness: () => Staleness | null = () => null,
  ) {}

  /** The client refused a snapshot (by its rejection code) or a rollout plan (by its refusal). */
  refused(kind: "snapshot" | "plan", code: string): void {
    if (this.lifetime.closed) return;
    const counts = this.refusals[kind];
    counts.set(code, (counts.get(code) ?? 0) + 1);
    // A client that reports sends it with the next batch, even when it serves nothing meanwhile.
    if (this.used && this.timer === null) {
      this.since = Date.now();
      this.arm();
    }
  }

  /** The refusals counted since the last batch (each code's count capped at what a report may carry). */
  private takeRefusals(): ReportedRejections | null {
    const out: ReportedRejections = {};
    for (const kind of ["snapshot", "plan"] as const) {
      const counts = this.refusals[kind];
      if (counts.size === 0) continue;
      out[kind] = Object.fromEntries([...counts].map(([code, n]) => [code, Math.min(n, MAX_REJECTIONS_PER_CODE)]));
      counts.clear();
    }
    return out.snapshot === undefined && out.plan === undefined ? null : out;
  }

  add(input: ReportInput): void {
    const requests = input.requests ?? 1;
    const errors = input.errors ?? 0;
    const latency = input.latencyMs;
    // One comparison chain for the common case (whole, non-negative, errors ≤ requests); NaN fails every one.
    // The refusal is built elsewhere, so that this stays small enough to be inlined into the caller.
    if (!(
      errors >= 0 &&
      errors <= requests &&
      requests <= Number.MAX_SAFE_INTEGER &&
      requests % 1 === 0 &&
      errors % 1 === 0
    ))
      refuseCounts(requests, errors);
    if (typeof latency === "number") {
      if (!(latency >= 0 && latency <= MAX_LATENCY_MS)) refuseLatency(latency);
      const t = this.live ?? this.start();
      if (t === null) return;
      t.requests += requests;
      t.errors += errors;
      // A sample is one request's: without a request to go with it, the summary would claim more than was served.
      if (requests > 0 && t.count < t.requests) {
        t.count++;
        t.sum += latency;
        t.sumSquares += latency * latency;
      }
    } else if (latency === undefined) {
      const t = this.live ?? this.start();
      if (t === null) return;
      t.requests += requests;
      t.errors += errors;
    } else this.addSamples(requests, errors, latency);
  }

  private addSamples(requests: number, errors: number, latency: readonly number[]): void {
    if (!latencies(latency)) refuseLatency(latency);
    const t = this.live ?? this.start();
    if (t === null) return;
    t.requests += requests;
    t.errors += errors;
    for (const l of latency.slice(0, requests)) {
      t.count++;
      t.sum += l;
      t.sumSquares += l * l;
    }
  }

  /** The version in use changed: reports from now on count for it. */
  running(version: number): void {
    if (this.live !== null && this.live.version !== version) this.live = null;
  }

  /**
   * The totals of the version in use, made when there is room in the batch, with the timer that sends them
   * armed; null before the first version, once closed, or when the batch is full (the report is dropped).
   */
  private start(): Totals | null {
    const version = this.version();
    if (version === 0 || this.lifetime.closed) return null;
    let t = this.totals.get(version);
    if (t === undefined) {
      if (this.totals.size >= MAX_REPORTS_PER_BATCH) return null;
      t = { version, requests: 0, errors: 0, count: 0, sum: 0, sumSquares: 0 };
      this.totals.set(version, t);
    }
    this.used = true;
    if (this.timer === null) {
      // The batch covers the time from its first report: what the endpoint's per-second limits are measured on.
      this.since = Date.now();
      this.arm();
    }
    this.live = t;
    return t;
  }

  stats(): ReportStats {
    return { ...this.counts, pending: this.totals.size };
  }

  private arm(): void {
    if (this.lifetime.closed) return;
    this.timer = this.lifetime.timer(() => {
      this.timer = null;
      void this.flush();
    }, this.settings.reportIntervalMs);
    // Reports never keep a process alive.
    this.timer.unref();
  }

  /** Sends what accumulated and starts again from zero; a failure drops the batch. */
  async flush(): Promise<void> {
    const now = Date.now();
    const batch = reportBatch(this.totals.values(), this.settings.instance, now - this.since, {
      version: this.version(),
      rejected: this.takeRefusals(),
      stale: this.staleness(),
    });
    this.totals.clear();
    this.live = null;
    this.since = now;
    if (batch.reports.length === 0) return;
    if (this.inFlight || this.lifetime.closed) {
      this.counts.dropped++;
      return;
    }
    this.inFlight = true;
    try {
      const url = this.connection.url(ROLLOUT_PATHS.reports.slice(1));
      const res = await this.connection.send(
        url,
        JSON.stringify(batch),
        this.settings.reportToken,
        this.settings.timeoutMs,
      );
      if (res.status >= 200 && res.status < 300) {
        this.counts.sent++;
        try {
          const answer = JSON.parse(await res.text()) as { refused?: unknown[] };
          if (Array.isArray(answer.refused)) this.counts.refused += answer.refused.length;
        } catch {
          // An answer without a body says nothing more.
        }
      } else this.counts.dropped++;
    } catch {
      this.counts.dropped++;
    } finally {
      this.inFlight = false;
    }
  }
}
