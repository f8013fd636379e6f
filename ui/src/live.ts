// Live updates: the distribution API's event stream of each environment (`/v1/environments/{env}/events`),
// which sends one `snapshot` event per new version. EventSource sends the session cookie (same origin).
// A browser opens at most six HTTP/1.1 connections to one server, and the pages need some for their own
// requests: beyond MAX_STREAMS environments the rest are polled instead. Every stream reports to the
// connection store: an error makes it probe the server (the page says when the server is gone), an open
// stream or an event counts as an answer.

import type { SnapshotEventData } from "./api.js";
import { probe, reportAnswer } from "./connection.js";

const MAX_STREAMS = 4;
const POLL_MS = 15_000;

/** The `data` of a `snapshot` event (core/protocol/events.ts). */
export type SnapshotEvent = SnapshotEventData;

/** Calls `onEvent` for each new version of `environments`; returns the unsubscribe. */
export function watchEnvironments(
  environments: readonly string[],
  onEvent: (e: SnapshotEvent) => void,
  onPoll: () => void,
): () => void {
  const sources: EventSource[] = [];
  const seen = new Map<string, number>();
  for (const env of environments.slice(0, MAX_STREAMS)) {
    const source = new EventSource(`/v1/environments/${encodeURIComponent(env)}/events`);
    source.addEventListener("open", reportAnswer);
    // The browser reconnects by itself (or gives up, when the server answered with an error): either way
    // ask the server directly, so the page says whether it is there.
    source.addEventListener("error", () => void probe());
    source.addEventListener("snapshot", (m: MessageEvent<string>) => {
      reportAnswer();
      const data = JSON.parse(m.data) as SnapshotEvent;
      // The stream starts with the current version: only a newer one is news.
      const before = seen.get(env);
      seen.set(env, data.version);
      if (before !== undefined && data.version > before) onEvent(data);
    });
    sources.push(source);
  }
  const timer = environments.length > MAX_STREAMS ? setInterval(onPoll, POLL_MS) : null;
  return () => {
    for (const s of sources) s.close();
    if (timer !== null) clearInterval(timer);
  };
}
