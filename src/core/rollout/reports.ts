/**
 * Health reports from the SDK and the agent, aggregated into the gates' signals. A report is one client's
 * batch: how many requests it served on a config version since its last report, how many failed, and a
 * summary of their latencies. Reports come from many processes, some broken and possibly some hostile, so:
 *
 * - a report that is not well-formed or not plausible (negative or fractional counts, more errors than
 *   requests, an impossible latency summary, more requests than the rate limit allows for the time it
 *   covers) is refused whole, with the reason;
 * - a client cannot count twice: the requests an instance reports are capped by the time since it first
 *   reported, so a flood of reports (or one report claiming a week of traffic) adds no weight;
 * - no client outweighs its cohort: when signals are built, an instance whose requests exceed a multiple of
 *   its cohort's median is scaled down to it (its rates kept), so one process cannot dilute a breach or
 *   fake one alone.
 *
 * A report also carries what the client itself refused since its last report (snapshots by rejection code,
 * rollout plans by refusal) and whether the configuration it runs is stale (past its `expiresAt`, or the
 * endpoint unreachable): kept per version and instance beside the counts, shown in the rollout status, never
 * a gate's signal (see docs/rollouts.md, "What the clients refused").
 *
 * Pure: the caller passes the clock; the aggregate is plain data the server keeps in its store.
 */
import { isInstanceId } from "../protocol/client-header.js";
import { REJECTION_CODES } from "../protocol/codes.js";
import { PLAN_REFUSALS } from "./refusals.js";
import type { GateSignal } from "./gates.js";
import type { Gate } from "./policy.js";
import type { MeanSample, RateSample } from "./statistics.js";

export interface HealthReport {
  /** The `Strata-Client` instance id. */
  instance: string;
  /** The config version the requests were served with. */
  version: number;
  requests: number;
  errors: number;
  /** Latencies of (some of) those requests, in milliseconds. */
  latency?: MeanSample;
  /** The time the batch covers, in milliseconds. */
  intervalMs: number;
  /** What the client refused since its last report, by code (absent: nothing). */
  rejected?: ReportedRejections;
  /** The configuration the client runs is stale (absent: it is not). */
  stale?: Staleness;
}

/** Counts by code: snapshots by their rejection code, rollout plans by their refusal. */
export interface ReportedRejections {
  snapshot?: Record<string, number>;
  plan?: Record<string, number>;
}

/** Why a client's configuration is stale: past its `expiresAt`, or the endpoint not reachable. */
const STALENESS = ["expired", "disconnected"] as const;
export type Staleness = (typeof STALENESS)[number];

/** The most refusals of one code one report may count (a client refuses what it receives, a few a second). */
export const MAX_REJECTIONS_PER_CODE = 10_000;

const REJECTION_KINDS = { snapshot: REJECTION_CODES, plan: PLAN_REFUSALS } as const;

export interface ReportLimits {
  /** Requests per second one instance can plausibly serve (default 100,000). */
  maxRequestsPerSecond: number;
  /** The longest batch (default 5 minutes). */
  maxIntervalMs: number;
  /** No instance weighs more than this many times its cohort's median (default 5). */
  weightCap: number;
}

const DEFAULT_REPORT_LIMITS: ReportLimits = {
  maxRequestsPerSecond: 100_000,
  maxIntervalMs: 300_000,
  weightCap: 5,
};
/** An hour: a mean latency above it is not a latency. */
const MAX_LATENCY_MS = 3_600_000;

export type ReportCheck = { ok: true; report: HealthReport } | { ok: false; problem: string };

/** Checks a decoded report body; the reason when it is refused. */
export function parseHealthReport(value: unknown, limits: ReportLimits = DEFAULT_REPORT_LIMITS): ReportCheck {
  const refuse = (problem: string): ReportCheck => ({ ok: false, problem });
  if (value === null || typeof value !== "object" || Array.isArray(value)) return refuse("a report is a JSON object");
  const v = value as Record<string, unknown>;
  for (const k of Object.keys(v))
    if (!["instance", "version", "requests", "errors", "latency", "intervalMs", "rejected", "stale"].includes(k))
      return refuse(`unknown field "${k}"`);
  const count = (x: unknown): x is number => typeof x === "number" && Number.isSafeInteger(x) && x >= 0;
  if (typeof v.instance !== "string" || !isInstanceId(v.instance))
    return refuse('instance must be 1 to 128 characters: no white space, control characters, ";", "=" or ","');
  if (!count(v.version) || v.version < 1 || v.version > 2 ** 31) return refuse("version must be a version number");
  if (!count(v.intervalMs) || v.intervalMs < 1 || v.intervalMs > limits.maxIntervalMs)
    return refuse(`intervalMs must be from 1 to ${limits.maxIntervalMs}`);
  if (!count(v.requests)) return refuse("requests must be a whole number, 0 or more");
  if (!count(v.errors) || v.errors > v.requests) return refuse("errors must be a whole number, at most requests");
  if (v.requests > (limits.maxRequestsPerSecond * v.intervalMs) / 1000)
    return refuse(`more than ${limits.maxRequestsPerSecond} requests per second`);
  const report: HealthReport = {
    instance: v.instance,
    version: v.version,
    requests: v.requests,
    errors: v.errors,
    intervalMs: v.intervalMs,
  };
  if (v.latency !== undefined) {
    const l = v.latency as Record<string, unknown> | null;
    if (l === null || typeof l !== "object" || Object.keys(l).some((k) => !["count", "sum", "sumSquares"].includes(k)))
      return refuse("latency must be { count, sum, sumSquares }");
    const finite = (x: unknown): x is number => typeof x === "number" && Number.isFinite(x) && x >= 0;
    if (!count(l.count) || l.count > v.requests)
      return refuse("latency.count must be a whole number, at most requests");
    if (!finite(l.sum) || !finite(l.sumSquares))
      return refuse("latency.sum and latency.sumSquares must be finite and not negative");
    if (l.count > 0 && l.sum / l.count > MAX_LATENCY_MS) return refuse("the mean latency is more than an hour");
    // Σx² ≥ (Σx)²/n holds for any observations (with room for rounding); Σx² ≤ n·max² bounds the rest.
    if (
      l.count > 0 &&
      (l.sumSquares * l.count < l.sum * l.sum * (1 - 1e-9) || l.sumSquares > l.count * MAX_LATENCY_MS ** 2)
    )
      return refuse("the latency summary is inconsistent");
    if (l.count === 0 && (l.sum !== 0 || l.sumSquares !== 0)) return refuse("the latency summary is inconsistent");
    report.latency = { count: l.count, sum: l.sum, sumSquares: l.sumSquares };
  }
  if (v.rejected !== undefined) {
    const rejected = checkRejections(v.rejected);
    if (typeof rejected === "string") return refuse(rejected);
    report.rejected = rejected;
  }
  if (v.stale !== undefined) {
    if (!STALENESS.includes(v.stale as Staleness)) return refuse('stale must be "expired" or "disconnected"');
    report.stale = v.stale as Staleness;
  }
  return { ok: true, report };
}

/** A report's `rejected`, checked and copied (known codes only, counts from 1 to the bound); else the problem. */
function checkRejections(value: unknown): ReportedRejections | string {
  const shape = "rejected must be { snapshot?: { code: count }, plan?: { refusal: count } }";
  if (value === null || typeof value !== "object" || Array.isArray(value)) return shape;
  const out: ReportedRejections = {};
  for (const [kind, counts] of Object.entries(value as Record<string, unknown>)) {
    if (kind !== "snapshot" && kind !== "plan") return `${shape}: unknown field "${kind}"`;
    if (counts === null || typeof counts !== "object" || Array.isArray(counts)) return shape;
    const known: readonly string[] = REJECTION_KINDS[kind];
    const copy: Record<string, number> = {};
    for (const [code, n] of Object.entries(counts as Record<string, unknown>)) {
      if (!known.includes(code))
        return `rejected.${kind}: unknown code ${JSON.stringify(code.slice(0, 40))} (one of ${known.join(", ")})`;
      if (typeof n !== "number" || !Number.isSafeInteger(n) || n < 1 || n > MAX_REJECTIONS_PER_CODE)
        return `rejected.${kind}.${code} must be a whole number from 1 to ${MAX_REJECTIONS_PER_CODE}`;
      copy[code] = n;
    }
    out[kind] = copy;
  }
  return out;
}

/** One instance's totals on one version. */
export interface InstanceTotals {
  firstSeen: number;
  requests: number;
  errors: number;
  latency: MeanSample;
  /** What it refused while on this version, summed (absent in totals stored before reports carried it). */
  rejected?: { snapshot: Record<string, number>; plan: Record<string, number> };
  /** Its latest report on this version: stale or not (null), and when (ms since the epoch). */
  stale?: Staleness | null;
  lastAt?: number;
}

/** What the store keeps per environment (and service): totals per version and instance, since the rollout started. */
export interface ReportAggregate {
  /** version -> instance -> totals */
  versions: Record<string, Record<string, InstanceTotals>>;
}

export function emptyAggregate(): ReportAggregate {
  return { versions: {} };
}

/**
 * Adds a checked report at `now` (milliseconds since the epoch). Requests beyond what the instance could have
 * served since it first reported are dropped (with their share of errors and latencies): a repeated or
 * inflated report adds nothing. Returns how many requests were counted.
 */
export function addReport(
  aggregate: ReportAggregate,
  report: HealthReport,
  now: number,
  limits: ReportLimits = DEFAULT_REPORT_LIMITS,
): number {
  const byInstance = ownOrSet<Record<string, InstanceTotals>>(aggregate.versions, String(report.version), () => ({}));
  const totals = ownOrSet<InstanceTotals>(byInstance, report.instance, () => ({
    firstSeen: now - report.intervalMs,
    requests: 0,
    errors: 0,
    latency: { count: 0, sum: 0, sumSquares: 0 },
  }));
  addRefusals(totals, report.rejected);
  // The latest word on staleness wins (reports of one instance come in order, one batch at a time).
  if ((totals.lastAt ?? -Infinity) <= now) {
    totals.stale = report.stale ?? null;
    totals.lastAt = now;
  }
  const budget =
    Math.floor((limits.maxRequestsPerSecond * Math.max(0, now - totals.firstSeen)) / 1000) - totals.requests;
  const counted = Math.max(0, Math.min(report.requests, budget));
  if (counted === 0) return 0;
  const share = counted / report.requests;
  totals.requests += counted;
  totals.errors += Math.round(report.errors * share);
  if (report.latency) {
    totals.latency.count += Math.round(report.latency.count * share);
    totals.latency.sum += report.latency.sum * share;
    totals.latency.sumSquares += report.latency.sumSquares * share;
  }
  return counted;
}

/** Adds refusal counts to an instance's totals (each sum bounded: a safe integer). */
export function addRefusals(totals: InstanceTotals, rejected: ReportedRejections | InstanceTotals["rejected"]): void {
  if (rejected === undefined) return;
  const into = (totals.rejected ??= { snapshot: {}, plan: {} });
  for (const kind of ["snapshot", "plan"] as const)
    for (const [code, n] of Object.entries(rejected[kind] ?? {})) {
      const have = Object.hasOwn(into[kind], code) ? into[kind][code]! : 0;
      ownOrSet(into[kind], code, () => 0);
      into[kind][code] = Math.min(Number.MAX_SAFE_INTEGER, have + n);
    }
}

/**
 * The own property `key` of a plain-data map, created when missing; an instance id such as `__proto__`
 * stays an ordinary key (the aggregate is stored as JSON and read back, so it cannot be a Map).
 */
function ownOrSet<T>(map: Record<string, T>, key: string, make: () => T): T {
  if (Object.hasOwn(map, key)) return map[key]!;
  const value = make();
  Object.defineProperty(map, key, { value, enumerable: true, writable: true, configurable: true });
  return value;
}

/** The rate and latency of one version's instances, each instance weighed at most `weightCap` × the median. */
export function cohortTotals(
  aggregate: ReportAggregate,
  version: number,
  limits: ReportLimits = DEFAULT_REPORT_LIMITS,
): { rate: RateSample; latency: MeanSample; instances: number } {
  const key = String(version);
  const instances = Object.hasOwn(aggregate.versions, key) ? Object.values(aggregate.versions[key]!) : [];
  const rate: RateSample = { events: 0, trials: 0 };
  const latency: MeanSample = { count: 0, sum: 0, sumSquares: 0 };
  if (instances.length === 0) return { rate, latency, instances: 0 };
  const sorted = instances.map((i) => i.requests).sort((a, b) => a - b);
  const median = sorted[Math.floor((sorted.length - 1) / 2)]!;
  const cap = Math.max(1, median) * limits.weightCap;
  for (const i of instances) {
    const scale = i.requests > cap ? cap / i.requests : 1;
    rate.trials += i.requests * scale;
    rate.events += i.errors * scale;
    latency.count += i.latency.count * scale;
    latency.sum += i.latency.sum * scale;
    latency.sumSquares += i.latency.sumSquares * scale;
  }
  return { rate, latency, instances: instances.length };
}

/** The signals of the report gates (error-rate, latency) for a rollout from stable to candidate. */
export function reportSignals(
  aggregate: ReportAggregate,
  gates: readonly Gate[],
  versions: { stable: number; candidate: number },
  limits: ReportLimits = DEFAULT_REPORT_LIMITS,
): Record<string, GateSignal> {
  const candidate = cohortTotals(aggregate, versions.candidate, limits);
  const control = cohortTotals(aggregate, versions.stable, limits);
  const signals: Record<string, GateSignal> = {};
  for (const g of gates) {
    if (g.metric === "error-rate") signals[g.name] = { kind: "rate", candidate: candidate.rate, control: control.rate };
    else if (g.metric === "latency")
      signals[g.name] = { kind: "mean", candidate: candidate.latency, control: control.latency };
  }
  return signals;
}
