// The JSON the pages read: /v1 (the distribution API) where it has what a page needs, /ui/api for the rest.
// Requests carry the session cookie (same origin); a 401 sends the person back to the login form.

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

async function getJson<T>(path: string): Promise<T> {
  const res = await fetch(path, { headers: { accept: "application/json" }, credentials: "same-origin" });
  const body = (await res.json().catch(() => null)) as { error?: { code: string; message: string } } | null;
  if (!res.ok)
    throw new ApiError(
      res.status,
      body?.error?.code ?? "error",
      body?.error?.message ?? `${res.status} ${res.statusText}`,
    );
  return body as T;
}

export interface Session {
  auth: boolean;
  token: string | null;
  admin: boolean;
}

export interface Source {
  repository: string | null;
  commit: string | null;
  pullRequest: number | null;
  approvedBy: string[];
  pushedBy: string | null;
  emergency: boolean;
}

export interface Current {
  version: number;
  digest: string;
  action: string;
  publishedAt: string;
  createdAt: string;
  expiresAt: string;
  ageSeconds: number;
  expired: boolean;
  emergency: boolean;
  actor: string | null;
  source: Source;
}

export interface EnvironmentRow {
  name: string;
  declared: boolean;
  parent: string | null;
  abstract: boolean;
  production: boolean;
  approvalRequired: boolean;
  description: string | null;
  current: Current | null;
}

export interface EnvironmentsDoc {
  repository: boolean;
  environments: EnvironmentRow[];
}

export interface HistoryEntry {
  environment: string;
  version: number;
  digest: string;
  previous: string | null;
  rollbackOf: number | null;
  contentDigest: string;
  createdAt: string;
  expiresAt: string;
  publishedAt: string;
  action: "publish" | "refresh" | "rollback";
  emergency: boolean;
  actor: string | null;
  source: Source;
  recovered?: boolean;
}

export interface KeyChange {
  key: string;
  change: "added" | "removed" | "changed";
  before?: unknown;
  after?: unknown;
  sensitive: boolean;
  certain?: boolean;
  flags: ("restart-required" | "deprecated")[];
  deprecated?: string;
  owner: string | null;
  approvers: string[];
  items?: { index: number; change: string; id?: unknown; before?: unknown; after?: unknown }[];
}

export interface DiffDoc {
  base: string;
  head: string;
  environments: Record<string, { changes: KeyChange[]; production: boolean }>;
}

/** One client (SDK or agent) as the server records it from its `Strata-Client` header. */
export interface ClientRecord {
  environment: string | null;
  service: string;
  instance: string;
  kind?: string | null;
  version: number | null;
  since?: string | null;
  lastSeen: string;
  connected?: boolean;
  connections?: number;
  rejected?: { version: number; reason: string; at: string } | null;
}

export interface StatusDoc {
  environments: { environment: string; version: number; publishedAt: string; expiresAt: string; expired: boolean }[];
  clients: ClientRecord[];
}

export interface AuditedVersion {
  version: number;
  digest: string;
  previous: string | null;
  action: string;
  publishedAt: string;
  actor: string | null;
  emergency: boolean;
  signedBy: string | null;
  ok: boolean;
  problem: { code: string; message: string } | null;
}

export interface AuditDoc {
  trustedKeys: string[];
  environments: {
    environment: string;
    ok: boolean;
    versions: AuditedVersion[];
    firstBad: { version: number; code: string; message: string } | null;
  }[];
}

export const api = {
  session: () => getJson<Session>("/ui/api/session"),
  environments: () => getJson<EnvironmentsDoc>("/ui/api/environments"),
  history: (env: string) =>
    getJson<{ versions: HistoryEntry[] }>(`/v1/environments/${encodeURIComponent(env)}/history`),
  diff: (env: string, from: number, to: number) =>
    getJson<DiffDoc>(`/ui/api/environments/${encodeURIComponent(env)}/diff?from=${from}&to=${to}`),
  status: () => getJson<StatusDoc>("/v1/status"),
  audit: () => getJson<AuditDoc>("/ui/api/audit"),
};
