/**
 * Which clients run which version, from their `Strata-Client` header, for `GET /v1/status` (the fleet view of
 * docs/distribution.md):
 *
 *   Strata-Client: service=<name>; instance=<id>; version=<n>[; kind=sdk|agent][; rejected=<v>; reason=<code>]
 *
 * The endpoint records a client only from its reads of an environment's snapshot or events, by a caller allowed
 * to read that environment, keyed by (environment, service, instance): a header on another route, or on another
 * environment, cannot rewrite or move a record. Values are stripped of control characters and truncated, and
 * the table is bounded (least recently seen evicted first), so hostile headers cannot grow memory or corrupt a
 * terminal that prints them.
 */

export const REJECTION_REASONS = [
  "invalid-signature",
  "digest-mismatch",
  "wrong-environment",
  "version-regression",
  "decrypt-failed",
  "mac-mismatch",
  "invalid-snapshot",
] as const;
export type RejectionReason = (typeof REJECTION_REASONS)[number];

/** One client as `/v1/status` shows it. */
export interface ClientRecord {
  environment: string;
  service: string;
  instance: string;
  kind: "sdk" | "agent" | null;
  version: number;
  /** When this server first saw the client report `version` (propagation latency: since − publishedAt). */
  since: string;
  lastSeen: string;
  /** An open long-poll or event stream of this client on this server. */
  connected: boolean;
  rejected: { version: number; reason: RejectionReason; at: string } | null;
}

/** The live record: the open connection count behind `connected`. */
export interface TrackedClient extends Omit<ClientRecord, "connected"> {
  connections: number;
}

export interface ClientHeader {
  service: string;
  instance: string;
  version: number;
  kind: "sdk" | "agent" | null;
  rejected: { version: number; reason: RejectionReason } | null;
}

const FIELD_MAX = 128;
const HEADER_MAX = 1024;
const FORGET_MS = 15 * 60 * 1000;
export const MAX_CLIENTS = 10_000;

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;

/** Removes C0 and C1 control characters (and DEL), then truncates: safe to store, log and print. */
export function sanitizeClientField(value: string): string {
  return value.replace(CONTROL_CHARACTERS, "").trim().slice(0, FIELD_MAX);
}

function parseVersion(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return null;
  return Number(text);
}

/** The header's fields; null when absent or without a service and instance. */
export function parseClientHeader(value: string | undefined): ClientHeader | null {
  if (value === undefined || value.length > HEADER_MAX) return null;
  const fields = new Map<string, string>();
  for (const part of value.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0)
      fields.set(
        part.slice(0, eq).trim().toLowerCase(),
        part
          .slice(eq + 1)
          .trim()
          .replace(/^"|"$/g, ""),
      );
  }
  const service = sanitizeClientField(fields.get("service") ?? "");
  const instance = sanitizeClientField(fields.get("instance") ?? "");
  if (service === "" || instance === "") return null;
  const kindText = fields.get("kind");
  const kind = kindText === "sdk" || kindText === "agent" ? kindText : null;
  const rejectedVersion = parseVersion(fields.get("rejected"));
  const reason = fields.get("reason");
  const rejected =
    rejectedVersion !== null && (REJECTION_REASONS as readonly string[]).includes(reason ?? "")
      ? { version: rejectedVersion, reason: reason as RejectionReason }
      : null;
  return { service, instance, version: parseVersion(fields.get("version")) ?? 0, kind, rejected };
}

export class ClientTracker {
  /** Insertion order is recency order: a touch re-inserts, so the first entries are the least recently seen. */
  private readonly clients = new Map<string, TrackedClient>();

  constructor(private readonly maxClients = MAX_CLIENTS) {}

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
    if (
      parsed.rejected !== null &&
      (rec.rejected === null ||
        rec.rejected.version !== parsed.rejected.version ||
        rec.rejected.reason !== parsed.rejected.reason)
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
      }));
  }
}
