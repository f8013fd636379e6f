/**
 * The `Strata-Client` header: every request of the SDK and the agent says who it is, which version it runs
 * and the last version it refused (docs/distribution.md):
 *
 *   Strata-Client: service=<name>; instance=<id>; version=<n>[; kind=sdk|agent][; rejected=<v>; reason=<code>]
 *
 * The client writes it with {@link formatClientHeader}; the endpoint reads it with {@link parseClientHeader},
 * which accepts anything a client on the network may send: fields in any order, in any case, quoted; values
 * stripped of control characters and cut to 128 characters; the header cut off at 1 KiB.
 */
import { parseRejectionCode, type RejectionCode } from "./codes.js";
import { CLIENT_KINDS, type ClientKind } from "./status.js";

export const CLIENT_HEADER = "strata-client";

export interface ClientHeader {
  service: string;
  instance: string;
  /** The version the client runs (0 before its first). */
  version: number;
  kind: ClientKind | null;
  rejected: { version: number; reason: RejectionCode } | null;
}

/** The header's fields, in the order they are written. */
export const CLIENT_HEADER_FIELDS = ["service", "instance", "version", "kind", "rejected", "reason"] as const;

const FIELD_MAX = 128;
const HEADER_MAX = 1024;

// eslint-disable-next-line no-control-regex -- matching control characters is the point
const CONTROL_CHARACTERS = /[\u0000-\u001f\u007f-\u009f]/g;
// eslint-disable-next-line no-control-regex -- as above, with the header's own separators
const UNWRITABLE = /[\u0000-\u001f\u007f-\u009f;=,]/g;

/** A service or instance name as a client writes it: no control characters or separators, never empty. */
function encodeClientField(value: string): string {
  return value.replace(UNWRITABLE, "_").slice(0, FIELD_MAX) || "-";
}

/** Removes C0 and C1 control characters (and DEL), then truncates: safe to store, log and print. */
export function sanitizeClientField(value: string): string {
  return value.replace(CONTROL_CHARACTERS, "").trim().slice(0, FIELD_MAX);
}

export function formatClientHeader(h: ClientHeader): string {
  let text = `service=${encodeClientField(h.service)}; instance=${encodeClientField(h.instance)}; version=${h.version}`;
  if (h.kind !== null) text += `; kind=${h.kind}`;
  if (h.rejected !== null) text += `; rejected=${h.rejected.version}; reason=${h.rejected.reason}`;
  return text;
}

function parseVersion(text: string | undefined): number | null {
  if (text === undefined || !/^\d{1,10}$/.test(text)) return null;
  return Number(text);
}

/** The header's fields; null when absent, over 1 KiB, or without a service and instance. */
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
  const kind = (CLIENT_KINDS as readonly string[]).includes(kindText ?? "") ? (kindText as ClientKind) : null;
  const rejectedVersion = parseVersion(fields.get("rejected"));
  const reason = parseRejectionCode(fields.get("reason"));
  const rejected = rejectedVersion !== null && reason !== null ? { version: rejectedVersion, reason } : null;
  return { service, instance, version: parseVersion(fields.get("version")) ?? 0, kind, rejected };
}
