/** Which clients run which version, from their `Strata-Client` header (SPEC §9), for `GET /v1/status`. */

export interface ClientRecord {
  service: string;
  instance: string;
  environment: string | null;
  version: number | null;
  lastSeen: string;
  /** Open long-polls and event streams of this client on this server. */
  connections: number;
}

const FORGET_MS = 15 * 60 * 1000;
const MAX_CLIENTS = 10_000;

/** `service=<name>; instance=<id>; version=<n>`; null when absent or unusable. */
export function parseClientHeader(value: string | undefined): { service: string; instance: string; version: number | null } | null {
  if (value === undefined || value.length > 512) return null;
  const fields = new Map<string, string>();
  for (const part of value.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0) fields.set(part.slice(0, eq).trim().toLowerCase(), part.slice(eq + 1).trim().replace(/^"|"$/g, ""));
  }
  const service = fields.get("service");
  if (service === undefined || service === "") return null;
  const v = Number(fields.get("version"));
  return { service, instance: fields.get("instance") || "-", version: Number.isSafeInteger(v) && v >= 0 ? v : null };
}

export class ClientTracker {
  private readonly clients = new Map<string, ClientRecord>();

  /** Records one request; returns the record so a long-lived connection can count itself. */
  touch(header: string | undefined, environment: string | null): ClientRecord | null {
    const parsed = parseClientHeader(header);
    if (parsed === null) return null;
    const key = `${parsed.service}\u0000${parsed.instance}`;
    let rec = this.clients.get(key);
    if (rec === undefined) {
      if (this.clients.size >= MAX_CLIENTS) this.prune(0);
      rec = { service: parsed.service, instance: parsed.instance, environment, version: parsed.version, lastSeen: "", connections: 0 };
      this.clients.set(key, rec);
    }
    rec.lastSeen = new Date().toISOString();
    if (environment !== null) rec.environment = environment;
    if (parsed.version !== null) rec.version = parsed.version;
    return rec;
  }

  private prune(maxAgeMs: number): void {
    const cutoff = Date.now() - maxAgeMs;
    for (const [k, r] of this.clients) if (r.connections === 0 && Date.parse(r.lastSeen) < cutoff) this.clients.delete(k);
  }

  list(): ClientRecord[] {
    this.prune(FORGET_MS);
    return [...this.clients.values()].sort((a, b) => a.service.localeCompare(b.service) || a.instance.localeCompare(b.instance)).map((r) => ({ ...r }));
  }
}
