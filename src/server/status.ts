/**
 * `GET /v1/status` (what each environment serves and which clients run which version, filtered to what the
 * token may read) and the liveness probe.
 */
import { isStrataError } from "../core/findings.js";
import {
  chainKey,
  type ClientRecord,
  type EnvironmentFailure,
  type EnvironmentStatus,
  type ServiceFailure,
  type ServiceStatus,
  type StatusDocument,
} from "../core/protocol/index.js";
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
    // A client of a service the environment has a chain for reads that chain (the SDK's rule): counted there.
    const services = await parts.store.services(environment);
    const running: Record<string, number> = {};
    for (const cl of clients)
      if (cl.environment === environment && !services.includes(cl.service))
        running[cl.version] = (running[cl.version] ?? 0) + 1;
    const serviceRows = await serviceStatuses(parts, environment, services, clients, now);
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
      ...(serviceRows.length > 0 ? { services: serviceRows } : {}),
    });
  }
  return {
    schemaVersion: 1,
    store: parts.store.description,
    environments,
    clients: clients.filter((c) => mayRead(grant, c.environment)),
  };
}

/** Each service's chain of an environment (docs/distribution.md, "Services"), one failing one reported as such. */
async function serviceStatuses(
  parts: EndpointParts,
  environment: string,
  services: readonly string[],
  clients: readonly ClientRecord[],
  now: number,
): Promise<(ServiceStatus | ServiceFailure)[]> {
  const rows: (ServiceStatus | ServiceFailure)[] = [];
  for (const service of services) {
    let c;
    try {
      c = await parts.cache.current(chainKey({ environment, service }));
    } catch (e) {
      if (!isStrataError(e)) throw e;
      rows.push({ service, error: { code: e.code, message: redact(e.message) } });
      continue;
    }
    if (c === null) continue;
    const running: Record<string, number> = {};
    for (const cl of clients)
      if (cl.environment === environment && cl.service === service)
        running[cl.version] = (running[cl.version] ?? 0) + 1;
    rows.push({
      service,
      version: c.head.version,
      digest: c.head.digest,
      publishedAt: c.head.publishedAt,
      expiresAt: c.expiresAt,
      ageSeconds: Math.round((now - Date.parse(c.head.publishedAt)) / 1000),
      expired: Date.parse(c.expiresAt) < now,
      clients: running,
    });
  }
  return rows;
}

export function statusHandlers(parts: EndpointParts): Pick<Handlers, "GET status" | "GET healthz"> {
  return {
    "GET status": async ({ res, grant }) => sendJson(res, 200, await buildStatus(parts, grant)),
    "GET healthz": ({ res }) =>
      sendJson(res, parts.closing() ? 503 : 200, { status: parts.closing() ? "shutting-down" : "ok" }),
  };
}
