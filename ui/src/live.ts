// Live updates: one event stream per browser tab, `GET /v1/events` (docs/distribution.md), shared by every
// page of the tab. It carries a `snapshot` event per new version of every environment the session may read,
// a `client` event per fleet record that changed, a `rollout` event per step of a rollout, and a `heartbeat`
// every 15 s. A browser opens at most six
// HTTP/1.1 connections to one server across all its tabs: one stream per environment (as before) left a
// second tab without updates and a third without a page.
//
// On connect the server sends each environment's current version, then a heartbeat: versions before that
// first heartbeat are the baseline, only newer ones are news. A stream that stays silent past DEAD_MS (three
// heartbeats) is dead even if the browser has not noticed (a proxy holding the connection, a server that
// stopped without closing it): it is closed, the server probed, and a new one opened. Every stream reports
// to the connection store: an error makes it probe the server, an open stream or an event is an answer.

import type { ClientRecord, RolloutSummary, SnapshotEventData } from "./api.js";
import { connection, probe, reportAnswer } from "./connection.js";

/** Three heartbeats (the server sends one every 15 s) without a word: the stream is dead. */
const DEAD_MS = 45_000;
/** A stream nobody listens to is closed after this (a page switch unsubscribes and subscribes again). */
const IDLE_CLOSE_MS = 5_000;
/** After the server refused the stream (an error answer: the browser gives up), try again this often. */
const REOPEN_MS = 5_000;
const STREAM_PATH = "/v1/events";

/** The `data` of a `snapshot` event (core/protocol/events.ts). */
export type SnapshotEvent = SnapshotEventData;

interface Listener {
  /** A version newer than the one the stream started with. */
  onSnapshot?(e: SnapshotEvent): void;
  /** A fleet record changed (moved, connected, disconnected, refused). */
  onClient?(record: ClientRecord): void;
  /** A rollout started, stepped, held, was paused, resumed, promoted, rolled back or aborted. */
  onRollout?(summary: RolloutSummary): void;
  /** The stream came back after a gap in which events may have been missed: reload what is shown. */
  onResync?(): void;
}

const listeners = new Set<Listener>();
let source: EventSource | null = null;
/** The version of each environment this stream has told (the baseline, then each newer one). */
const versions = new Map<string, number>();
/** The first heartbeat of the current connection arrived: versions after it are news. */
let ready = false;
/** Events may have been missed since the last connection was ready: listeners reload when it is again. */
let gap = false;
let watchdog: ReturnType<typeof setTimeout> | null = null;
let idleTimer: ReturnType<typeof setTimeout> | null = null;
let reopenTimer: ReturnType<typeof setTimeout> | null = null;

function heard(): void {
  if (watchdog !== null) clearTimeout(watchdog);
  watchdog = setTimeout(() => {
    // Silent for three heartbeats: the stream is dead whatever the browser thinks.
    close();
    gap = true;
    void probe();
    if (listeners.size > 0) open();
  }, DEAD_MS);
}

function close(): void {
  source?.close();
  source = null;
  ready = false;
  for (const t of [watchdog, idleTimer, reopenTimer]) if (t !== null) clearTimeout(t);
  watchdog = idleTimer = reopenTimer = null;
}

function open(): void {
  const s = new EventSource(STREAM_PATH);
  source = s;
  ready = false;
  heard();
  s.addEventListener("open", () => {
    ready = false;
    heard();
    reportAnswer();
  });
  s.addEventListener("error", () => {
    if (source !== s) return;
    gap = true;
    ready = false;
    // The browser reconnects by itself, or gives up when the server answered with an error (a proxy's 502):
    // either way ask the server directly, so the page says whether it is there; a given-up stream is reopened.
    void probe();
    if (s.readyState === EventSource.CLOSED) {
      close();
      reopenTimer = setTimeout(() => {
        reopenTimer = null;
        if (listeners.size > 0 && source === null) open();
      }, REOPEN_MS);
    }
  });
  s.addEventListener("heartbeat", () => {
    if (source !== s) return;
    heard();
    if (connection().state !== "live") reportAnswer();
    if (!ready) {
      ready = true;
      if (gap) {
        gap = false;
        for (const l of [...listeners]) l.onResync?.();
      }
    }
  });
  s.addEventListener("snapshot", (m: MessageEvent<string>) => {
    if (source !== s) return;
    heard();
    reportAnswer();
    const data = JSON.parse(m.data) as SnapshotEvent;
    const before = versions.get(data.environment);
    if (before !== undefined && data.version <= before) return;
    versions.set(data.environment, data.version);
    if (ready) for (const l of [...listeners]) l.onSnapshot?.(data);
  });
  s.addEventListener("rollout", (m: MessageEvent<string>) => {
    if (source !== s) return;
    heard();
    reportAnswer();
    const summary = JSON.parse(m.data) as RolloutSummary;
    for (const l of [...listeners]) l.onRollout?.(summary);
  });
  s.addEventListener("client", (m: MessageEvent<string>) => {
    if (source !== s) return;
    heard();
    reportAnswer();
    const record = JSON.parse(m.data) as ClientRecord;
    for (const l of [...listeners]) l.onClient?.(record);
  });
}

/** Follows the tab's one stream until the returned function is called. */
export function follow(listener: Listener): () => void {
  listeners.add(listener);
  if (idleTimer !== null) clearTimeout(idleTimer);
  idleTimer = null;
  if (source === null && reopenTimer === null) open();
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0 && idleTimer === null)
      idleTimer = setTimeout(() => {
        idleTimer = null;
        if (listeners.size === 0) close();
      }, IDLE_CLOSE_MS);
  };
}

/**
 * Calls `onEvent` for each new version of `environments`, and `onResync` when events may have been missed
 * (the stream came back after a gap); returns the unsubscribe.
 */
export function watchEnvironments(
  environments: readonly string[],
  onEvent: (e: SnapshotEvent) => void,
  onResync: () => void,
): () => void {
  const wanted = new Set(environments);
  return follow({
    onSnapshot: (e) => {
      if (wanted.has(e.environment)) onEvent(e);
    },
    onResync,
  });
}
