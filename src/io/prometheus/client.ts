/**
 * A client of the Prometheus HTTP query API (`POST /api/v1/query`), for rollout gates. A gate's query must
 * come down to one number (an aggregation such as `sum(...)`); anything else is not a signal:
 *
 * - an empty result (no series matched: nothing scraped yet, a version no client runs) is `no-data`;
 * - `NaN` or an infinity (0/0, a rate of nothing) is `not-a-number`;
 * - an error answer, a timeout, an unreachable server, more than one series or an unreadable body is
 *   `query-failed`.
 *
 * Each of those is inconclusive to the decision engine: it holds the rollout, never passes or rolls it back.
 */
import type { UnavailableReason } from "../../core/rollout/gates.js";
import {
  describeFetchFailure,
  printableUrl,
  readCapped,
  ResponseTooLarge,
  splitCredentials,
} from "../http/outbound.js";

export interface PrometheusOptions {
  /** The server's base URL, e.g. http://prometheus:9090 (a path prefix is kept). */
  url: string;
  /** Sent with every query and never shown (e.g. Authorization). */
  headers?: Readonly<Record<string, string>>;
  /** Per query (default 10 s). */
  timeoutMs?: number;
  /** Larger answers are refused (default 1 MiB): a gate's answer is one number. */
  maxResponseBytes?: number;
  fetch?: typeof fetch;
}

export type QueryAnswer = { ok: true; value: number } | { ok: false; reason: UnavailableReason; detail: string };

export interface PrometheusClient {
  /** Evaluates `promql` at `time` (milliseconds since the epoch) to one number. */
  query(promql: string, time: number, signal?: AbortSignal): Promise<QueryAnswer>;
}

export function createPrometheusClient(options: PrometheusOptions): PrometheusClient {
  // fetch refuses URLs with credentials: `http://user:password@prometheus:9090` becomes Basic authentication.
  const { url, authorization } = splitCredentials(options.url);
  const base = url.replace(/\/+$/, "");
  const endpoint = `${base}/api/v1/query`;
  const doFetch = options.fetch ?? fetch;
  const limit = options.maxResponseBytes ?? 1 << 20;
  const where = printableUrl(base)?.replace(/\/$/, "") ?? "Prometheus";
  return {
    async query(promql, time, signal) {
      const failed = (detail: string): QueryAnswer => ({ ok: false, reason: "query-failed", detail });
      let text: string;
      let status: number;
      try {
        const res = await doFetch(endpoint, {
          method: "POST",
          headers: {
            ...(authorization ? { authorization } : {}),
            ...(options.headers ?? {}),
            "content-type": "application/x-www-form-urlencoded",
            accept: "application/json",
          },
          body: new URLSearchParams({ query: promql, time: (time / 1000).toFixed(3) }).toString(),
          redirect: "error",
          signal:
            signal === undefined
              ? AbortSignal.timeout(options.timeoutMs ?? 10_000)
              : AbortSignal.any([AbortSignal.timeout(options.timeoutMs ?? 10_000), signal]),
        });
        status = res.status;
        text = await readCapped(res, limit);
      } catch (e) {
        if (e instanceof ResponseTooLarge) return failed(`${where} answered with more than ${limit} bytes`);
        return failed(`${where} could not be queried (${describeFetchFailure(e)})`);
      }
      let doc: unknown;
      try {
        doc = JSON.parse(text);
      } catch {
        return failed(`${where} answered ${status} with a body that is not JSON`);
      }
      return readAnswer(doc, status, where);
    },
  };
}

/** The one number of a query API answer (see the module comment for what is not one). */
export function readAnswer(doc: unknown, status: number, where = "Prometheus"): QueryAnswer {
  const failed = (detail: string): QueryAnswer => ({ ok: false, reason: "query-failed", detail });
  const d = doc as {
    status?: unknown;
    error?: unknown;
    errorType?: unknown;
    data?: { resultType?: unknown; result?: unknown };
  };
  if (d === null || typeof d !== "object") return failed(`${where} answered ${status} with no query result`);
  if (d.status !== "success") {
    const type = typeof d.errorType === "string" ? d.errorType : "error";
    const message = typeof d.error === "string" ? d.error.slice(0, 300) : `status ${status}`;
    return failed(`${where}: ${type}: ${message}`);
  }
  const type = d.data?.resultType;
  const result = d.data?.result;
  let sample: unknown;
  if (type === "scalar") sample = result;
  else if (type === "vector" && Array.isArray(result)) {
    if (result.length === 0) return { ok: false, reason: "no-data", detail: "the query matched no series" };
    if (result.length > 1)
      return failed(`the query returned ${result.length} series, not one number: aggregate it (e.g. sum(...))`);
    sample = (result[0] as { value?: unknown } | null)?.value;
  } else
    return failed(
      `the query returned a ${String(type)}, not one number: use an instant query that aggregates to one value`,
    );
  if (!Array.isArray(sample) || sample.length !== 2 || typeof sample[1] !== "string")
    return failed("the answer has no [time, value] sample");
  // Prometheus writes sample values as strings: "NaN", "+Inf", "-Inf" or a Go float.
  const value = Number(sample[1]);
  if (!Number.isFinite(value))
    return { ok: false, reason: "not-a-number", detail: `the query's value is ${sample[1]}` };
  return { ok: true, value };
}
