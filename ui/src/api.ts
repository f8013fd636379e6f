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
  HistoryEntry,
  KeyChange,
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

export type {
  AuditedVersion,
  ChainAuditDocument,
  ClientRecord,
  EnvironmentRow,
  EnvironmentsDocument,
  HistoryEntry,
  KeyChange,
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
  audit: () => getJson<ChainAuditDocument>("/ui/api/audit"),
  versions: (env: string, before: number | null = null) =>
    getJson<VersionsDocument>(
      `/ui/api/environments/${encodeURIComponent(env)}/versions${before === null ? "" : `?before=${before}`}`,
    ),
};
