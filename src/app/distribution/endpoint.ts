/**
 * The CLI's side of the docs/distribution.md HTTP API: read current/versions/history/status and publish with If-Match.
 * Errors come back as StrataErrors with the endpoint's code (exit 4 for distribution codes).
 */
import { StrataError, ERROR_CODES, type Code } from "../../core/findings.js";
import { isJsonObject } from "../../core/json.js";
import {
  chainLabel,
  chainPath,
  type ErrorDocument,
  type HistoryDocument,
  type HistoryEntry,
  ROLLOUT_PATHS,
  type PublishedDocument,
  type RolloutStatusDocument,
  type Snapshot,
  type StatusDocument,
  type VersionRef,
} from "../../core/protocol/index.js";
import { parseSnapshot, serializeSnapshot } from "../../core/snapshot/index.js";

export type PublishReply =
  { ok: true; version: number; digest: string } | { ok: false; current: VersionRef | null; message: string };

/** `service`: a service's own chain of the environment (strata.yaml `services:`); absent or null: the environment's. */
export interface EndpointClient {
  readonly url: string;
  current(environment: string, service?: string | null): Promise<Snapshot | null>;
  version(environment: string, version: number, service?: string | null): Promise<Snapshot | null>;
  /** Compare-and-swap on the snapshot's chain: `expected` is the version the snapshot was built on. */
  publish(snapshot: Snapshot, expected: number): Promise<PublishReply>;
  history(environment: string, service?: string | null): Promise<HistoryEntry[]>;
  status(): Promise<StatusDocument>;
  /** `GET {chain}/rollout` (docs/rollouts.md). */
  rollout(environment: string, service?: string | null): Promise<RolloutStatusDocument>;
  /** `POST {chain}/rollout/{action}`: the new status. */
  rolloutAction(
    environment: string,
    service: string | null,
    action: string,
    reason?: string,
  ): Promise<RolloutStatusDocument>;
}

function endpointHint(url: string): string {
  return `is strata serve running at ${url}? (--endpoint / STRATA_ENDPOINT / distribution.endpoint)`;
}

export function createEndpointClient(options: {
  url: string;
  token?: string | undefined;
  userAgent?: string;
}): EndpointClient {
  const base = options.url.replace(/\/+$/, "");
  if (!/^https?:\/\/[^/]+/.test(base))
    throw new StrataError("invalid-argument", `invalid endpoint ${JSON.stringify(options.url)}`, {
      hint: "e.g. http://127.0.0.1:7070",
    });
  const headers: Record<string, string> = { "user-agent": options.userAgent ?? "strata-cli" };
  if (options.token !== undefined && options.token !== "") headers.authorization = `Bearer ${options.token}`;

  async function request(
    method: string,
    path: string,
    init: { body?: string; headers?: Record<string, string> } = {},
  ): Promise<Response> {
    try {
      return await fetch(base + path, {
        method,
        headers: { ...headers, ...init.headers },
        body: init.body ?? null,
        signal: AbortSignal.timeout(60_000),
      });
    } catch (cause) {
      throw new StrataError("unreachable", `cannot reach the endpoint ${base}: ${(cause as Error).message}`, {
        cause,
        hint: endpointHint(base),
      });
    }
  }

  async function failure(res: Response, what: string): Promise<StrataError> {
    const text = await res.text().catch(() => "");
    let code: Code = res.status === 401 ? "unauthenticated" : res.status === 403 ? "access-denied" : "push-failed";
    let message = `${what}: HTTP ${res.status}`;
    try {
      const body = JSON.parse(text) as unknown;
      const err = isJsonObject(body) && isJsonObject(body.error) ? body.error : null;
      if (err && typeof err.code === "string" && (ERROR_CODES as readonly string[]).includes(err.code))
        code = err.code as Code;
      if (err && typeof err.message === "string") message = `${what}: ${err.message}`;
    } catch {
      // Not our JSON (a proxy's page): keep the status.
    }
    const hint =
      code === "unauthenticated"
        ? "set STRATA_TOKEN to a token of the endpoint"
        : code === "access-denied"
          ? "the token needs a scope for this environment (read:<env> / push:<env>)"
          : undefined;
    return new StrataError(code, message, hint === undefined ? {} : { hint });
  }

  async function getJson(path: string, what: string): Promise<unknown> {
    const res = await request("GET", path);
    if (!res.ok) throw await failure(res, what);
    return res.json();
  }

  async function getSnapshot(path: string, what: string): Promise<Snapshot | null> {
    const res = await request("GET", path);
    if (res.status === 404) {
      await res.body?.cancel();
      return null;
    }
    if (!res.ok) throw await failure(res, what);
    const text = await res.text();
    try {
      return parseSnapshot(text);
    } catch (e) {
      // Say whose answer was malformed: the endpoint's, not the user's repository.
      if (e instanceof StrataError)
        throw new StrataError(e.code, `${what}: the endpoint answered a bad snapshot: ${e.message}`, { cause: e });
      throw e;
    }
  }

  const chain = (environment: string, service: string | null = null) => ({ environment, service });
  return {
    url: base,
    current: (e, s) =>
      getSnapshot(`${chainPath(chain(e, s))}/snapshot`, `reading the current snapshot of ${chainLabel(chain(e, s))}`),
    version: (e, v, s) =>
      getSnapshot(`${chainPath(chain(e, s))}/snapshots/${v}`, `reading ${chainLabel(chain(e, s))} version ${v}`),
    async publish(snapshot, expected) {
      const of = chain(snapshot.environment, snapshot.service ?? null);
      const res = await request("PUT", `${chainPath(of)}/snapshot`, {
        body: serializeSnapshot(snapshot),
        headers: { "content-type": "application/json", "if-match": `"${expected}"` },
      });
      if (res.status === 409) {
        const body = (await res.json().catch(() => ({}))) as Partial<ErrorDocument>;
        return { ok: false, current: body.error?.current ?? null, message: body.error?.message ?? "version conflict" };
      }
      if (!res.ok) throw await failure(res, `publishing ${chainLabel(of)} v${snapshot.version}`);
      const body = (await res.json()) as PublishedDocument;
      return { ok: true, version: body.version, digest: body.digest };
    },
    async history(e, s) {
      const of = chain(e, s);
      return (
        (await getJson(`${chainPath(of)}/history`, `reading the history of ${chainLabel(of)}`)) as HistoryDocument
      ).versions;
    },
    async status() {
      return (await getJson("/v1/status", "reading the status")) as StatusDocument;
    },
    async rollout(e, s) {
      const of = chain(e, s);
      return (await getJson(
        `${chainPath(of)}/rollout`,
        `reading the rollout of ${chainLabel(of)}`,
      )) as RolloutStatusDocument;
    },
    async rolloutAction(e, s, action, reason) {
      const of = chain(e, s);
      const res = await request("POST", `${chainPath(of)}${ROLLOUT_PATHS.rollout}/${encodeURIComponent(action)}`, {
        body: JSON.stringify(reason === undefined ? {} : { reason }),
        headers: { "content-type": "application/json" },
      });
      if (!res.ok) throw await failure(res, `${action} the rollout of ${chainLabel(of)}`);
      return (await res.json()) as RolloutStatusDocument;
    },
  };
}
