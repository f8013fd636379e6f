/**
 * Which clients run which version, from their `Strata-Client` header (core/protocol/client-header.ts), for
 * `GET /v1/status` (the fleet view of docs/distribution.md).
 *
 * The endpoint records a client only from its reads of an environment's snapshot or events, by a caller allowed
 * to read that environment, keyed by (environment, service, instance): a header on another route, or on another
 * environment, cannot rewrite or move a record. Values are stripped of control characters and truncated, and
 * the table is bounded (least recently seen evicted first), so hostile headers cannot grow memory or corrupt a
 * terminal that prints them.
 *
 * A record changes when its client moves to another version, refuses one, or opens or closes its last
 * long-poll or event stream: {@link ClientTracker.subscribe} hears each change once (coalesced over a short
 * window, so a long-poll that ends and starts again is no change), for `GET /v1/events`. While a client holds
 * a connection open its `lastSeen` is refreshed by the heartbeat, and set when the connection closes: "not
 * heard from" means not connected and not asking, never "its stream has been open a long time".
 */
import type { IncomingMessage } from "node:http";
import { CLIENT_HEADER, clientState, parseClientHeader, type ClientRecord } from "../core/protocol/index.js";

const MAX_CLIENTS = 10_000;
const FORGET_MS = 15 * 60 * 1000;
/** Changes within this window are told once (a long-poll's answer and the next one's start are no change). */
const COALESCE_MS = 250;

/** The live record: the open connection count behind `connected`. */
export interface TrackedClient extends Omit<ClientRecord, "connected" | "state"> {
  connections: number;
}

/** Told of client records: one that changed, and (propagation) a client that moved to a newer version. */
export interface ClientEvents {
  /** A client moved from `from` to `record.version` (both above 0): the metrics observe its latency. */
  moved?(record: ClientRecord, from: number): void;
  /** A client reported a refusal it had not reported before. */
  rejected?(record: ClientRecord): void;
}

function keyOf(r: { environment: string; service: string; instance: string }): string {
  return `${r.environment}\u0000${r.service}\u0000${r.instance}`;
}

function toRecord({ connections, ...r }: TrackedClient): ClientRecord {
  return {
    ...r,
    connected: connections > 0,
    rejected: r.rejected === null ? null : { ...r.rejected },
    state: clientState(r.version, r.rejected),
  };
}

/** Of two records of one client (two servers'), the one heard from last; connected if either is. */
function newest(a: ClientRecord, b: ClientRecord): ClientRecord {
  const pick = Date.parse(b.lastSeen) > Date.parse(a.lastSeen) ? b : a;
  return { ...pick, connected: a.connected || b.connected };
}

/** What a change is: the fields a fleet view shows, without the times that move on every request. */
function signature(r: ClientRecord): string {
  return JSON.stringify([r.version, r.kind, r.rejected?.version, r.rejected?.reason, r.connected]);
}

export class ClientTracker {
  /** Insertion order is recency order: a touch re-inserts, so the first entries are the least recently seen. */
  private readonly clients = new Map<string, TrackedClient>();
  private readonly listeners = new Set<(record: ClientRecord) => void>();
  /** Keys changed since the last flush, and what each looked like when it was last told. */
  private readonly changed = new Set<string>();
  private readonly told = new Map<string, string>();
  private flushTimer: NodeJS.Timeout | null = null;
  /** The other servers' records (shared through the store), merged: key -> record. */
  private remote = new Map<string, ClientRecord>();
  /** Goes up with every change of a local record: the sharing writes again only when it moved. */
  changes = 0;

  constructor(
    private readonly maxClients = MAX_CLIENTS,
    private readonly events: ClientEvents = {},
  ) {}

  /** {@link touch} with the request's header: only handlers of an environment's reads call it, after auth. */
  touchFrom(req: IncomingMessage, environment: string): TrackedClient | null {
    const header = req.headers[CLIENT_HEADER];
    return this.touch(typeof header === "string" ? header : undefined, environment);
  }

  /**
   * Records a read of `environment`'s snapshot or events by an authorized caller; returns the record so a
   * long-lived connection can count itself ({@link connect}, {@link disconnect}).
   */
  touch(header: string | undefined, environment: string, when?: Date): TrackedClient | null {
    const parsed = parseClientHeader(header);
    if (parsed === null) return null;
    const now = when ?? new Date();
    const key = keyOf({ environment, ...parsed });
    const at = now.toISOString();
    // When the client switched: it may say so (`running`, capped), as the SDK does for a switch it tells a
    // moment later; else now.
    const switchedAt =
      parsed.running == null || parsed.running === 0 ? at : new Date(now.getTime() - parsed.running).toISOString();
    let rec = this.clients.get(key);
    let from = 0;
    if (rec === undefined) {
      this.evict();
      rec = {
        environment,
        service: parsed.service,
        instance: parsed.instance,
        kind: parsed.kind,
        version: parsed.version,
        since: switchedAt,
        lastSeen: at,
        rejected: null,
        connections: 0,
      };
    } else {
      this.clients.delete(key);
      if (rec.version !== parsed.version) {
        rec.since = switchedAt;
        from = rec.version;
      }
      rec.version = parsed.version;
      rec.kind = parsed.kind ?? rec.kind;
      rec.lastSeen = at;
    }
    // The header carries the last refusal of the process for as long as it runs: none means none (a new
    // process under the same instance name), and the same one keeps the time it was first heard of.
    let newRefusal = false;
    if (parsed.rejected === null) rec.rejected = null;
    else if (
      rec.rejected === null ||
      rec.rejected.version !== parsed.rejected.version ||
      rec.rejected.reason !== parsed.rejected.reason
    ) {
      rec.rejected = { ...parsed.rejected, at };
      newRefusal = true;
    }
    this.clients.set(key, rec);
    if (from > 0 && rec.version > from) this.events.moved?.(toRecord(rec), from);
    if (newRefusal) this.events.rejected?.(toRecord(rec));
    this.mark(key);
    return rec;
  }

  /** A long-poll or event stream of this client opened. */
  connect(rec: TrackedClient): void {
    rec.connections++;
    this.mark(keyOf(rec));
  }

  /** One closed: the client was there until now. */
  disconnect(rec: TrackedClient, now = new Date()): void {
    rec.connections--;
    rec.lastSeen = now.toISOString();
    this.mark(keyOf(rec));
  }

  /** The heartbeat: every client holding a connection open is seen now. */
  heartbeat(now = new Date()): void {
    const at = now.toISOString();
    for (const r of this.clients.values()) if (r.connections > 0) r.lastSeen = at;
  }

  /** Calls `listener` with each record that changed (see the module comment); returns the unsubscribe. */
  subscribe(listener: (record: ClientRecord) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Stops telling (shutdown). */
  close(): void {
    if (this.flushTimer !== null) clearTimeout(this.flushTimer);
    this.flushTimer = null;
    this.listeners.clear();
  }

  /**
   * The records the other servers of the store share: each key's newest (by `lastSeen`), connected when any
   * server holds a connection of it. Changes against the previous set are told like local ones.
   */
  setRemote(records: readonly ClientRecord[]): void {
    const next = new Map<string, ClientRecord>();
    for (const r of records) {
      const key = keyOf(r);
      const had = next.get(key);
      if (had === undefined) next.set(key, r);
      else next.set(key, newest(had, r));
    }
    const before = this.remote;
    this.remote = next;
    for (const key of new Set([...before.keys(), ...next.keys()])) {
      if (JSON.stringify(before.get(key)) !== JSON.stringify(next.get(key))) this.mark(key, false);
      if (!next.has(key) && !this.clients.has(key)) this.told.delete(key);
    }
  }

  /** The records this server keeps from its own requests (what it shares). */
  local(now = Date.now()): ClientRecord[] {
    this.forget(now);
    return [...this.clients.values()].map(toRecord);
  }

  private merged(key: string): ClientRecord | undefined {
    const local = this.clients.get(key);
    const remote = this.remote.get(key);
    if (local === undefined) return remote;
    return remote === undefined ? toRecord(local) : newest(toRecord(local), remote);
  }

  private mark(key: string, local = true): void {
    if (local) this.changes++;
    this.changed.add(key);
    if (this.flushTimer === null) {
      this.flushTimer = setTimeout(() => this.flush(), COALESCE_MS);
      this.flushTimer.unref();
    }
  }

  private flush(): void {
    this.flushTimer = null;
    const keys = [...this.changed];
    this.changed.clear();
    for (const key of keys) {
      const record = this.merged(key);
      if (record === undefined) continue;
      const sig = signature(record);
      if (this.told.get(key) === sig) continue;
      this.told.set(key, sig);
      for (const l of [...this.listeners]) l(record);
    }
  }

  /** Makes room for one: drops the least recently seen client without an open connection. */
  private evict(): void {
    if (this.clients.size < this.maxClients) return;
    for (const [k, r] of this.clients) {
      if (r.connections === 0) {
        this.clients.delete(k);
        this.told.delete(k);
        return;
      }
    }
  }

  get size(): number {
    return this.clients.size;
  }

  private forget(now: number): void {
    const cutoff = now - FORGET_MS;
    for (const [k, r] of this.clients)
      if (r.connections === 0 && Date.parse(r.lastSeen) < cutoff) {
        this.clients.delete(k);
        if (!this.remote.has(k)) this.told.delete(k);
      }
  }

  /** Every client: this server's and (with a shared store) the other servers', one record per client. */
  list(now = Date.now()): ClientRecord[] {
    this.forget(now);
    const cutoff = now - FORGET_MS;
    const out: ClientRecord[] = [];
    for (const key of new Set([...this.clients.keys(), ...this.remote.keys()])) {
      const r = this.merged(key)!;
      if (r.connected || Date.parse(r.lastSeen) >= cutoff) out.push(r);
    }
    return out.sort(
      (a, b) =>
        a.environment.localeCompare(b.environment) ||
        a.service.localeCompare(b.service) ||
        a.instance.localeCompare(b.instance),
    );
  }
}
