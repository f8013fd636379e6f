/**
 * The event stream of `GET /v1/environments/{env}/events` (server-sent events, docs/distribution.md): the
 * frames the endpoint writes and the parser the SDK reads them with.
 *
 *   retry: 2000                                         once, when the stream opens
 *
 *   event: snapshot                                     per version: on connect (the current one, or every
 *   id: 7                                               version after Last-Event-ID) and on each publish
 *   data: {"environment":"staging","version":7,"digest":"sha256:…","snapshot":"{…}"}
 *
 *   `snapshot`: on a stream opened with `?snapshot=inline` (the SDK's), the current version's signed bytes,
 *   as a JSON string, when they are at most EMBEDDED_SNAPSHOT_MAX_BYTES (replayed older versions and larger
 *   ones are announced only). A client verifies them exactly as the bytes of `GET …/snapshots/{version}`;
 *   one that does not ask for them, or ignores the member, fetches.
 *
 *   : keep-alive                                        a comment every 15 s
 */
import type { Agree, FieldsOf } from "./fields.js";

/** The event type of a version announcement. */
const SNAPSHOT_EVENT = "snapshot";

/**
 * `GET /v1/events`: one stream for every environment the caller may read (the dashboard holds one per tab).
 * Its frames carry no `id` (there is no replay: a reconnecting reader reloads what it shows):
 *
 *   event: snapshot                                     on connect, the current version of each environment,
 *   data: {"environment":"staging","version":7,...}     then one per publish (the same data as above)
 *
 *   event: client                                       a fleet record whose version, refusal, kind or
 *   data: {"environment":"staging","service":…}         connection changed (the `ClientRecord` of /v1/status)
 *
 *   event: heartbeat                                    right after the current versions (what follows is
 *   data: {"at":"2026-12-07T00:00:15.000Z"}             news), then every 15 s: a reader that hears nothing
 *                                                       for longer knows the stream is dead (EventSource
 *                                                       hides comments)
 */
export const STREAM_EVENTS = ["snapshot", "client", "heartbeat"] as const;
export type StreamEventType = (typeof STREAM_EVENTS)[number];

/** The `data` of a `heartbeat` event: the server's clock when it was sent. */
export interface HeartbeatEventData {
  at: string;
}

/** One frame of `GET /v1/events`: no `id`, one `data` line (JSON never holds a raw line break). */
export function formatStreamEvent(type: StreamEventType, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** The `data` of a `snapshot` event. */
export interface SnapshotEventData {
  environment: string;
  /** A service's chain (`…/services/{svc}/events`) only. */
  service?: string;
  version: number;
  digest: string;
  /**
   * The version's signed snapshot, the exact text `GET …/snapshots/{version}` answers, when it is at most
   * {@link EMBEDDED_SNAPSHOT_MAX_BYTES}: the client verifies it as it would the fetched one and need not fetch.
   */
  snapshot?: string;
}

export const SNAPSHOT_EVENT_DATA_FIELDS = ["environment", "service", "version", "digest", "snapshot"] as const;

/**
 * The largest snapshot (UTF-8 bytes) an event carries. Escaped inside the data line it stays far below
 * {@link MAX_PENDING_EVENT}, which every client, old ones included, accepts; one publish writes it to every
 * open stream, so it stays small: above it the event announces the version and each client fetches it.
 */
export const EMBEDDED_SNAPSHOT_MAX_BYTES = 64 * 1024;

/**
 * The query of `GET …/events` that asks for the snapshot inside each event (`?snapshot=inline`). A reader
 * that does not fetch (a dashboard, `curl`, a proxy's probe) leaves it out and gets the short frames;
 * a server that predates it ignores it, and the client fetches.
 */
export const INLINE_SNAPSHOT_QUERY = { name: "snapshot", value: "inline" } as const;

/** The reconnect delay the stream asks browsers for (the SDK keeps its own backoff). */
export const RETRY_FRAME = "retry: 2000\n\n";
/** Sent every {@link KEEP_ALIVE_MS} so proxies keep the stream open and the client knows it is alive. */
export const KEEP_ALIVE_FRAME = ": keep-alive\n\n";
export const KEEP_ALIVE_MS = 15_000;

/**
 * One frame announcing a version, carrying its snapshot when `data.snapshot` is given (the caller keeps it
 * within {@link EMBEDDED_SNAPSHOT_MAX_BYTES}). Its bytes are fixed: deployed clients parse them (a test pins
 * them).
 */
export function formatSnapshotEvent(data: SnapshotEventData): string {
  const body: SnapshotEventData = {
    environment: data.environment,
    ...(data.service === undefined ? {} : { service: data.service }),
    version: data.version,
    digest: data.digest,
    ...(data.snapshot === undefined ? {} : { snapshot: data.snapshot }),
  };
  return `event: ${SNAPSHOT_EVENT}\nid: ${data.version}\ndata: ${JSON.stringify(body)}\n\n`;
}

/**
 * The most an event may hold before it is dispatched (its unfinished line and its data lines, in UTF-16 code
 * units): an event that never ends cannot grow the reader's memory past it. The endpoint's events are about
 * a hundred characters.
 */
export const MAX_PENDING_EVENT = 1024 * 1024;

/** An event grew past {@link MAX_PENDING_EVENT}: the stream is not the endpoint's, drop it. */
export class EventTooLargeError extends Error {
  constructor() {
    super(`an event of the stream grew past ${MAX_PENDING_EVENT / 1024 / 1024} MiB without ending`);
    this.name = "EventTooLargeError";
  }
}

/** One dispatched event. */
export interface StreamEvent {
  /** The `event` field, `message` when absent. */
  event: string;
  /** This event's own `id` field, or null when it has none (an id is not carried over to later events). */
  id: string | null;
  /** The `data` lines joined with `\n`. */
  data: string;
}

/**
 * The version a `snapshot` event announces, or 0 (another event, or an id that is not a version). Only the
 * id is read: the client fetches and verifies the version itself, so nothing in `data` is trusted.
 */
export function announcedVersion(event: StreamEvent): number {
  if (event.event !== SNAPSHOT_EVENT || event.id === null || !/^\d{1,15}$/.test(event.id)) return 0;
  return Number(event.id);
}

/**
 * The snapshot text a `snapshot` event carries (its `data`'s `snapshot` member), or null: another event, no
 * such member, data that is not JSON. Nothing about it is trusted: the client verifies it exactly as the
 * answer of `GET …/snapshots/{version}` (signature, digest, chain, version), and fetches when it is null.
 */
export function embeddedSnapshot(event: StreamEvent): string | null {
  if (event.event !== SNAPSHOT_EVENT || !event.data.includes('"snapshot"')) return null;
  let data: unknown;
  try {
    data = JSON.parse(event.data);
  } catch {
    return null;
  }
  const text = typeof data === "object" && data !== null ? (data as { snapshot?: unknown }).snapshot : undefined;
  return typeof text === "string" ? text : null;
}

/**
 * An incremental parser of the text/event-stream format (the WHATWG HTML standard's "event stream
 * interpretation"): lines end with CRLF, LF or CR; a blank line ends an event; `:` starts a comment; an
 * event is dispatched when it has data. Feed it the decoded text as it arrives, in chunks split anywhere:
 * only the new text is scanned, and only the unfinished line is held. An event (its unfinished line and its
 * data so far) longer than `maxPending` throws {@link EventTooLargeError}.
 */
export class EventStreamParser {
  /** The unfinished last line (it has no line end yet). */
  private pending = "";
  /** The previous chunk ended with CR: a LF opening the next one belongs to it. */
  private afterCR = false;
  private type = "";
  private id: string | null = null;
  /** The event's data lines so far; null before its first (most blocks are comments and have none). */
  private data: string[] | null = null;
  private fields = 0;
  /** The characters of the data lines of the event so far. */
  private dataSize = 0;
  /** Blank-line-terminated blocks seen: events, comments, `retry` (a stream that carried anything at all). */
  blocks = 0;

  constructor(private readonly maxPending = MAX_PENDING_EVENT) {}

  /** Parses the next piece of the stream; returns the events it completed. */
  push(chunk: string): StreamEvent[] {
    const out: StreamEvent[] = [];
    let start = 0;
    if (this.afterCR && chunk.startsWith("\n")) start = 1;
    this.afterCR = false;
    for (let i = start; i < chunk.length; i++) {
      const c = chunk.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const line = this.pending + chunk.slice(start, i);
      this.pending = "";
      if (c === 13) {
        if (i + 1 === chunk.length) this.afterCR = true;
        else if (chunk.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
      this.line(line, out);
      if (this.dataSize > this.maxPending) throw new EventTooLargeError();
    }
    if (start < chunk.length) this.pending += chunk.slice(start);
    if (this.pending.length + this.dataSize > this.maxPending) throw new EventTooLargeError();
    return out;
  }

  private line(line: string, out: StreamEvent[]): void {
    if (line === "") {
      if (this.fields > 0) this.blocks++;
      if (this.data !== null)
        out.push({ event: this.type === "" ? "message" : this.type, id: this.id, data: this.data.join("\n") });
      this.type = "";
      this.id = null;
      this.data = null;
      this.dataSize = 0;
      this.fields = 0;
      return;
    }
    this.fields++;
    if (line.startsWith(":")) return;
    const colon = line.indexOf(":");
    const name = colon < 0 ? line : line.slice(0, colon);
    let value = colon < 0 ? "" : line.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (name === "event") this.type = value;
    else if (name === "data") {
      (this.data ??= []).push(value);
      this.dataSize += value.length + 1;
    } else if (name === "id" && !value.includes("\0")) this.id = value;
    // `retry` and unknown fields: nothing for the SDK to do (it keeps its own backoff).
  }
}

type _EventDataFields = Agree<FieldsOf<SnapshotEventData, typeof SNAPSHOT_EVENT_DATA_FIELDS>>;
