/**
 * `GET /v1/status` (what each environment serves and which clients run which version, filtered to what the
 * token may read) and the liveness probe.
 */
import { isStrataError } from "../core/findings.js";
import type { ClientRecord, EnvironmentFailure, EnvironmentStatus, StatusDocument } from "../core/protocol/index.js";
import { redact } from "../core/redact.js";
import { mayRead } from "./auth.js";
import type { Handlers } from "./dispatch.js";
import { sendJson } from "./http.js";
import type { EndpointParts } from "./parts.js";
import type { Grant } from "./tokens.js";

export async function buildStatus(
  parts: EndpointParts,
  grant: Grant | null,
  now = Date.now(),
): Promise<StatusDocument> {
  const environments: (EnvironmentStatus | EnvironmentFailure)[] = [];
  const clients: ClientRecord[] = parts.clients.list(now);
  for (const environment of await parts.store.environments()) {
    if (!mayRead(grant, environment)) continue;
    let c;
    try {
      c = await parts.cache.current(environment);
    } catch (e) {
      // One corrupted (or unreadable) environment is reported as such; every other one is still answered.
      if (!isStrataError(e)) throw e;
      environments.push({ environment, error: { code: e.code, message: redact(e.message) } });
      continue;
    }
    if (c === null) continue;
    const running: Record<string, number> = {};
    for (const cl of clients) if (cl.environment === environment) running[cl.version] = (running[cl.version] ?? 0) + 1;
    environments.push({
      environment,
      version: c.head.version,
      digest: c.head.digest,
      publishedAt: c.head.publishedAt,
      createdAt: c.createdAt,
      expiresAt: c.expiresAt,
      ageSeconds: Math.round((now - Date.parse(c.head.publishedAt)) / 1000),
      expired: Date.parse(c.expiresAt) < now,
      clients: running,
    });
  }
  return {
    schemaVersion: 1,
    store: parts.store.description,
    environments,
    clients: clients.filter((c) => mayRead(grant, c.environment)),
  };
}

export function statusHandlers(parts: EndpointParts): Pick<Handlers, "GET status" | "GET healthz"> {
  return {
    "GET status": async ({ res, grant }) => sendJson(res, 200, await buildStatus(parts, grant)),
    "GET healthz": ({ res }) =>
      sendJson(res, parts.closing() ? 503 : 200, { status: parts.closing() ? "shutting-down" : "ok" }),
  };
}
