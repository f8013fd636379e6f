// The JSON the pages read: /v1 (the distribution API) where it has what a page needs, /ui/api for the rest.
// Requests carry the session cookie (same origin); a 401 sends the person back to the login form.

// The documents are the protocol's, declared once in src/core/protocol: type-only imports, so nothing of
// the server's code reaches this bundle.
import type {
  AuditedVersion,
  ChainAuditDocument,
  ClientRecord,
  EnvironmentRow,
  EnvironmentsDocument,
  HistoryDocument,
  KeyChange,
  RolloutStatusDocument,
  RolloutSummary,
  SessionDocument,
  SnapshotEventData,
  StatusDocument,
  VersionDiffDocument,
  VersionsDocument,
} from "../../src/core/protocol/index.js";
import { isUnreachableStatus, reportAnswer, reportUnreachable } from "./connection.js";

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

/** The `code` of an {@link ApiError} when the server did not answer (the connection store says so on the page). */
export const UNREACHABLE = "unreachable";

async function getJson<T>(path: string): Promise<T> {
  let res: Response;
  try {
    res = await fetch(path, { headers: { accept: "application/json" }, credentials: "same-origin" });
  } catch (e) {
    reportUnreachable((e as Error).message);
    throw new ApiError(0, UNREACHABLE, "The strata server is not answering.");
  }
  if (isUnreachableStatus(res.status)) {
    reportUnreachable(`${res.status} ${res.statusText}`);
    throw new ApiError(res.status, UNREACHABLE, "The strata server is not answering.");
  }
  reportAnswer();
  const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!res.ok)
    throw new ApiError(
      res.status,
      body?.error?.code ?? "error",
      body?.error?.message ?? `${res.status} ${res.statusText}`,
    );
  return body as T;
}

/** One environment's propagation histogram: cumulative counts per upper bound (seconds; Infinity last). */
export interface PropagationHistogram {
  environment: string;
  buckets: { le: number; count: number }[];
}

const PROPAGATION_BUCKET = "strata_client_propagation_seconds_bucket";

/** The labels of one exposition-format sample: `{a="x",b="y\"z"}`. */
function parseLabels(text: string): Map<string, string> {
  const labels = new Map<string, string>();
  for (const m of text.matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g))
    labels.set(
      m[1]!,
      m[2]!.replace(/\\(.)/g, (_, c: string) => (c === "n" ? "\n" : c)),
    );
  return labels;
}

/** The propagation histograms in the server's Prometheus text (`GET /metrics`), per environment. */
function parsePropagation(text: string): PropagationHistogram[] {
  const byEnv = new Map<string, { le: number; count: number }[]>();
  for (const line of text.split("\n")) {
    if (!line.startsWith(PROPAGATION_BUCKET + "{")) continue;
    const close = line.lastIndexOf("}");
    const labels = parseLabels(line.slice(PROPAGATION_BUCKET.length + 1, close));
    const environment = labels.get("environment");
    const le = labels.get("le");
    const count = Number(line.slice(close + 1).trim());
    if (environment === undefined || le === undefined || !Number.isFinite(count)) continue;
    const list = byEnv.get(environment) ?? [];
    list.push({ le: le === "+Inf" ? Infinity : Number(le), count });
    byEnv.set(environment, list);
  }
  return [...byEnv].map(([environment, buckets]) => ({ environment, buckets: buckets.sort((a, b) => a.le - b.le) }));
}

async function getText(path: string): Promise<string> {
  let res: Response;
  try {
    res = await fetch(path, { credentials: "same-origin" });
  } catch (e) {
    reportUnreachable((e as Error).message);
    throw new ApiError(0, UNREACHABLE, "The strata server is not answering.");
  }
  if (isUnreachableStatus(res.status)) {
    reportUnreachable(`${res.status} ${res.statusText}`);
    throw new ApiError(res.status, UNREACHABLE, "The strata server is not answering.");
  }
  reportAnswer();
  if (!res.ok) throw new ApiError(res.status, "error", `${res.status} ${res.statusText}`);
  return res.text();
}

export type {
  AuditedVersion,
  ChainAuditDocument,
  ClientRecord,
  EnvironmentRow,
  EnvironmentsDocument,
  KeyChange,
  RolloutStatusDocument,
  RolloutSummary,
  SessionDocument,
  SnapshotEventData,
  StatusDocument,
  VersionsDocument,
};

export const api = {
  session: () => getJson<SessionDocument>("/ui/api/session"),
  environments: () => getJson<EnvironmentsDocument>("/ui/api/environments"),
  history: (env: string) => getJson<HistoryDocument>(`/v1/environments/${encodeURIComponent(env)}/history`),
  diff: (env: string, from: number, to: number) =>
    getJson<VersionDiffDocument>(`/ui/api/environments/${encodeURIComponent(env)}/diff?from=${from}&to=${to}`),
  status: () => getJson<StatusDocument>("/v1/status"),
  /** The environment's rollout (docs/rollouts.md), or null when it never had one (404). */
  rollout: async (env: string): Promise<RolloutStatusDocument | null> => {
    try {
      return await getJson<RolloutStatusDocument>(`/v1/environments/${encodeURIComponent(env)}/rollout`);
    } catch (e) {
      if (e instanceof ApiError && e.status === 404) return null;
      throw e;
    }
  },
  audit: () => getJson<ChainAuditDocument>("/ui/api/audit"),
  /** The server's propagation histograms (its Prometheus metrics), per environment. */
  propagation: async () => parsePropagation(await getText("/metrics?name=strata_client_propagation_seconds")),
  versions: (env: string, before: number | null = null) =>
    getJson<VersionsDocument>(
      `/ui/api/environments/${encodeURIComponent(env)}/versions${before === null ? "" : `?before=${before}`}`,
    ),
};
