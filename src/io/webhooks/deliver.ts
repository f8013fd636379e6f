/**
 * Sends change events to the webhooks an operator configures, with retries: exponential backoff with full
 * jitter, `Retry-After` honoured (capped), each attempt under a timeout. A 2xx is delivered; 408, 425, 429,
 * 5xx and network failures are retried; any other status is final (the request is wrong, resending it
 * will not help). Header values (API keys, tokens) and URL queries and credentials never appear in a
 * result or a message.
 */
import type { ChangeEvent } from "../../core/rollout/events.js";
import { describeFetchFailure, printableUrl, splitCredentials } from "../http/outbound.js";
import { cdevent, datadogChangeEvent, grafanaAnnotation, type WebhookFormat, type WireMessage } from "./formats.js";

export interface WebhookSink {
  /** For results and logs. */
  name: string;
  format: WebhookFormat;
  /** The endpoint: a CDEvents sink, `<grafana>/api/annotations`, `https://event-management-intake.<site>/api/v2/events`. */
  url: string;
  /** Sent with every request and never shown: `Authorization: Bearer …` (Grafana), `DD-API-KEY` (Datadog). */
  headers?: Readonly<Record<string, string>>;
  /** CDEvents `source` (a URI reference naming this strata server); default `/strata`. */
  source?: string;
  /** Grafana: pin the annotations to one dashboard. */
  dashboardUID?: string;
}

export interface DeliveryOptions {
  fetch?: typeof fetch;
  /** Attempts in all, the first included (default 5). */
  maxAttempts?: number;
  /** The first retry waits up to this long; each further one up to twice as long as the one before (default 500 ms). */
  baseDelayMs?: number;
  /** No wait is longer, `Retry-After` included (default 30 s). */
  maxDelayMs?: number;
  /** Each attempt (default 10 s). */
  timeoutMs?: number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
  /** The clock `Retry-After` dates are read against (default Date.now). */
  now?: () => number;
}

export interface DeliveryResult {
  sink: string;
  /** Delivered (a 2xx), or nothing to send for this format (skipped). */
  ok: boolean;
  skipped: boolean;
  attempts: number;
  /** The last HTTP status, if any answer came. */
  status: number | null;
  /** Why it failed, without secrets. */
  error: string | null;
}

function messageFor(sink: WebhookSink, event: ChangeEvent): WireMessage {
  switch (sink.format) {
    case "cdevents":
      return cdevent(event, sink.source ?? "/strata");
    case "grafana":
      return grafanaAnnotation(event, sink.dashboardUID ? { dashboardUID: sink.dashboardUID } : {});
    case "datadog":
      return datadogChangeEvent(event);
  }
}

const RETRIABLE = new Set([408, 425, 429]);

/** Sends one event to one sink. Never throws: the result says what happened. */
export async function deliverChangeEvent(
  sink: WebhookSink,
  event: ChangeEvent,
  options: DeliveryOptions = {},
): Promise<DeliveryResult> {
  const message = messageFor(sink, event);
  if (message === null) return { sink: sink.name, ok: true, skipped: true, attempts: 0, status: null, error: null };
  const where = printableUrl(sink.url);
  if (where === null)
    return {
      sink: sink.name,
      ok: false,
      skipped: false,
      attempts: 0,
      status: null,
      error: "the webhook URL is not an http(s) URL",
    };
  const doFetch = options.fetch ?? fetch;
  const sleep = options.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
  const random = options.random ?? Math.random;
  const now = options.now ?? Date.now;
  const maxAttempts = Math.max(1, options.maxAttempts ?? 5);
  const base = options.baseDelayMs ?? 500;
  const cap = options.maxDelayMs ?? 30_000;
  const body = JSON.stringify(message.body);
  // fetch refuses URLs with credentials: `https://user:password@grafana/…` becomes Basic authentication.
  const { url, authorization } = splitCredentials(sink.url);
  // The sink's own headers last, so that its credentials are sent; content-type stays the format's.
  const headers: Record<string, string> = {
    ...message.headers,
    ...(authorization ? { authorization } : {}),
    ...(sink.headers ?? {}),
    "content-type": message.headers["content-type"]!,
  };

  let status: number | null = null;
  let error = "";
  for (let attempt = 1; ; attempt++) {
    let retryAfter: number | null = null;
    try {
      const res = await doFetch(url, {
        method: "POST",
        headers,
        body,
        redirect: "error",
        signal: AbortSignal.timeout(options.timeoutMs ?? 10_000),
      });
      status = res.status;
      await res.body?.cancel().catch(() => undefined);
      if (res.ok) return { sink: sink.name, ok: true, skipped: false, attempts: attempt, status, error: null };
      error = `${where} answered ${res.status}`;
      if (!(RETRIABLE.has(res.status) || res.status >= 500))
        return { sink: sink.name, ok: false, skipped: false, attempts: attempt, status, error };
      retryAfter = parseRetryAfter(res.headers.get("retry-after"), now());
    } catch (e) {
      error = `${where} could not be reached (${describeFetchFailure(e)})`;
    }
    if (attempt >= maxAttempts)
      return {
        sink: sink.name,
        ok: false,
        skipped: false,
        attempts: attempt,
        status,
        error: `${error}; gave up after ${attempt} attempts`,
      };
    const backoff = random() * Math.min(cap, base * 2 ** (attempt - 1));
    await sleep(Math.min(cap, Math.max(backoff, retryAfter ?? 0)));
  }
}

/** Sends one event to every sink at once. */
export function sendChangeEvent(
  sinks: readonly WebhookSink[],
  event: ChangeEvent,
  options: DeliveryOptions = {},
): Promise<DeliveryResult[]> {
  return Promise.all(sinks.map((s) => deliverChangeEvent(s, event, options)));
}

/** `Retry-After: 120` or an HTTP date -> milliseconds to wait, or null. */
export function parseRetryAfter(value: string | null, now: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d+$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? null : Math.max(0, at - now);
}
