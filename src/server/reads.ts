/**
 * The reads of published versions that are not the current one's transports: one version by number,
 * an environment's (or a service's) history, the audit record.
 */
import { chainLabel, type AuditDocument, type HistoryDocument } from "../core/protocol/index.js";
import { nothingPublished, requestChain, type ChainHandler } from "./chains.js";
import type { Handlers } from "./dispatch.js";
import { readRolloutAudit } from "./rollouts/audit.js";
import { HttpError, sendJson } from "./http.js";
import type { EndpointParts } from "./parts.js";

/** A version never changes: a client may keep it for a year (privately, when tokens guard it). */
const IMMUTABLE = "max-age=31536000, immutable";

export function readHandlers(
  parts: EndpointParts,
): Pick<Handlers, "GET version" | "GET service-version" | "GET history" | "GET service-history" | "GET audit"> {
  const { cache, reader, store } = parts;
  const version: ChainHandler<"GET version"> = async (ctx) => {
    const { req, res, params } = ctx;
    const chain = requestChain(params);
    const { key: environment } = chain;
    parts.clients.touchFrom(req, chain.environment);
    const version = /^\d{1,15}$/.test(params.version) ? Number(params.version) : NaN;
    if (!Number.isSafeInteger(version))
      throw new HttpError(404, "not-found", `${chainLabel(chain)} has no version ${params.version.slice(0, 20)}`);
    // The current version (what every client fetches after an event) is served from memory, verified once.
    // A current version that cannot be loaded (logged as store-corrupt where it failed) does not stop the
    // others from being read one by one.
    const current = cache.peek(environment) ?? (await cache.current(environment).catch(() => undefined));
    let body: Buffer;
    if (current != null && current.head.version === version) body = current.body;
    else {
      const read = await reader.read(environment, version);
      if (read === null) {
        if (current == null) throw await nothingPublished(store, chain);
        throw new HttpError(404, "not-found", `${chainLabel(chain)} has no version ${version}`);
      }
      body = Buffer.from(read.text, "utf8");
    }
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": body.length,
      etag: `"${version}"`,
      // Without tokens anyone may read it, and so may a shared cache; with tokens only the requester's own.
      "cache-control": `${ctx.shared ? "public" : "private"}, ${IMMUTABLE}`,
    });
    res.end(req.method === "HEAD" ? undefined : body);
  };
  const history: ChainHandler<"GET history"> = async ({ res, params }) => {
    const chain = requestChain(params);
    const versions = await store.history(chain.key);
    if (versions.length === 0 && chain.service !== null) throw await nothingPublished(store, chain);
    const body: HistoryDocument = {
      schemaVersion: 1,
      environment: chain.environment,
      ...(chain.service === null ? {} : { service: chain.service }),
      versions,
    };
    sendJson(res, 200, body);
  };
  return {
    "GET version": version,
    "GET service-version": version,
    "GET history": history,
    "GET service-history": history,
    "GET audit": async ({ res }) => {
      const body: AuditDocument = {
        schemaVersion: 1,
        entries: await store.audit(),
        rollouts: await readRolloutAudit(store),
      };
      sendJson(res, 200, body);
    },
  };
}
