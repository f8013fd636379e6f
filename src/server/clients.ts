/**
 * Which clients run which version, from their `Strata-Client` header (core/protocol/client-header.ts), for
 * `GET /v1/status` (the fleet view of docs/distribution.md).
 *
 * The endpoint records a client only from its reads of an environment's snapshot or events, by a caller allowed
 * to read that environment, keyed by (environment, service, instance): a header on another route, or on another
 * environment, cannot rewrite or move a record. Values are stripped of control characters and truncated, and
 * the table is bounded (least recently seen evicted first), so hostile headers cannot grow memory or corrupt a
 * terminal that prints them.
 */
import type { IncomingMessage } from "node:http";
import { CLIENT_HEADER, clientState, parseClientHeader, type ClientRecord } from "../core/protocol/index.js";

const MAX_CLIENTS = 10_000;
const FORGET_MS = 15 * 60 * 1000;

/** The live record: the open connection count behind `connected`. */
export interface TrackedClient extends Omit<ClientRecord, "connected" | "state"> {
  connections: number;
}

export class ClientTracker {
  /** Insertion order is recency order: a touch re-inserts, so the first entries are the least recently seen. */
  private readonly clients = new Map<string, TrackedClient>();

  constructor(private readonly maxClients = MAX_CLIENTS) {}

  /** {@link touch} with the request's header: only handlers of an environment's reads call it, after auth. */
  touchFrom(req: IncomingMessage, environment: string): TrackedClient | null {
    const header = req.headers[CLIENT_HEADER];
    return this.touch(typeof header === "string" ? header : undefined, environment);
  }

  /**
   * Records a read of `environment`'s snapshot or events by an authorized caller; returns the record so a
   * long-lived connection can count itself.
   */
  touch(header: string | undefined, environment: string, now = new Date()): TrackedClient | null {
    const parsed = parseClientHeader(header);
    if (parsed === null) return null;
    const key = `${environment}\u0000${parsed.service}\u0000${parsed.instance}`;
    const at = now.toISOString();
    let rec = this.clients.get(key);
    if (rec === undefined) {
      this.evict();
      rec = {
        environment,
        service: parsed.service,
        instance: parsed.instance,
        kind: parsed.kind,
        version: parsed.version,
        since: at,
        lastSeen: at,
        rejected: null,
        connections: 0,
      };
    } else {
      this.clients.delete(key);
      if (rec.version !== parsed.version) rec.since = at;
      rec.version = parsed.version;
      rec.kind = parsed.kind ?? rec.kind;
      rec.lastSeen = at;
    }
    // The header carries the last refusal of the process for as long as it runs: none means none (a new
    // process under the same instance name), and the same one keeps the time it was first heard of.
    if (parsed.rejected === null) rec.rejected = null;
    else if (
      rec.rejected === null ||
      rec.rejected.version !== parsed.rejected.version ||
      rec.rejected.reason !== parsed.rejected.reason
    ) {
      rec.rejected = { ...parsed.rejected, at };
    }
    this.clients.set(key, rec);
    return rec;
  }

  /** Makes room for one: drops the least recently seen client without an open connection. */
  private evict(): void {
    if (this.clients.size < this.maxClients) return;
    for (const [k, r] of this.clients) {
      if (r.connections === 0) {
        this.clients.delete(k);
        return;
      }
    }
  }

  get size(): number {
    return this.clients.size;
  }

  list(now = Date.now()): ClientRecord[] {
    const cutoff = now - FORGET_MS;
    for (const [k, r] of this.clients)
      if (r.connections === 0 && Date.parse(r.lastSeen) < cutoff) this.clients.delete(k);
    return [...this.clients.values()]
      .sort(
        (a, b) =>
          a.environment.localeCompare(b.environment) ||
          a.service.localeCompare(b.service) ||
          a.instance.localeCompare(b.instance),
      )
      .map(({ connections, ...r }) => ({
        ...r,
        connected: connections > 0,
        rejected: r.rejected === null ? null : { ...r.rejected },
        state: clientState(r.version, r.rejected),
      }));
  }
}
