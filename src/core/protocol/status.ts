/**
 * `GET /v1/status`: what each environment serves and the fleet, each client as the endpoint recorded it
 * from its `Strata-Client` header (docs/distribution.md). `strata status` and the dashboard's fleet page
 * read it.
 */
import { isRejectionCode, type RejectionCode } from "./codes.js";
import type { Agree, FieldsOf } from "./fields.js";

export const CLIENT_KINDS = ["sdk", "agent"] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

/**
 * What a client is doing, from its last header: `starting` (no version yet, nothing refused), `running`,
 * `refusing` (the last version it refused is newer than the one it runs: it is refusing a snapshot now),
 * `failed` (it refused at start and has no version: an instance that could not start).
 */
export const CLIENT_STATES = ["starting", "running", "refusing", "failed"] as const;
export type ClientState = (typeof CLIENT_STATES)[number];

/** The state a fleet record's version and last refusal mean. */
export function clientState(version: number, rejected: { version: number } | null): ClientState {
  if (rejected !== null && rejected.version > version) return version === 0 ? "failed" : "refusing";
  return version === 0 ? "starting" : "running";
}

/** The fleet record: one client (SDK or agent) of one environment, keyed by service and instance. */
export interface ClientRecord {
  environment: string;
  service: string;
  instance: string;
  kind: ClientKind | null;
  /** The version it runs (0 before its first). */
  version: number;
  /** When this server first saw the client report `version` (propagation latency: since − publishedAt). */
  since: string;
  lastSeen: string;
  /** An open long-poll or event stream of this client on this server. */
  connected: boolean;
  /** The last version it refused and why, and when the server first heard of it (since when it refuses). */
  rejected: { version: number; reason: RejectionCode; at: string } | null;
  state: ClientState;
}

export const CLIENT_RECORD_FIELDS = [
  "environment",
  "service",
  "instance",
  "kind",
  "version",
  "since",
  "lastSeen",
  "connected",
  "rejected",
  "state",
] as const;

/** An environment the endpoint serves. */
export interface EnvironmentStatus {
  environment: string;
  version: number;
  digest: string;
  publishedAt: string;
  createdAt: string;
  expiresAt: string;
  ageSeconds: number;
  expired: boolean;
  /** Version -> how many clients run it. */
  clients: Record<string, number>;
  /** The services' chains (strata.yaml `services:`), when it has any; their clients are counted there. */
  services?: (ServiceStatus | ServiceFailure)[];
}

/** One service's chain of an environment: its current version, and which of its clients run which version. */
export interface ServiceStatus {
  service: string;
  version: number;
  digest: string;
  publishedAt: string;
  expiresAt: string;
  ageSeconds: number;
  expired: boolean;
  clients: Record<string, number>;
}

export const SERVICE_STATUS_FIELDS = [
  "service",
  "version",
  "digest",
  "publishedAt",
  "expiresAt",
  "ageSeconds",
  "expired",
  "clients",
] as const;

/** A service's chain the endpoint cannot serve (`store-corrupt`). */
export interface ServiceFailure {
  service: string;
  error: { code: string; message: string };
}

export const SERVICE_FAILURE_FIELDS = ["service", "error"] as const;

export const ENVIRONMENT_STATUS_FIELDS = [
  "environment",
  "version",
  "digest",
  "publishedAt",
  "createdAt",
  "expiresAt",
  "ageSeconds",
  "expired",
  "clients",
  "services",
] as const;

/** An environment the endpoint cannot serve, e.g. `store-corrupt`: the others are still answered. */
export interface EnvironmentFailure {
  environment: string;
  error: { code: string; message: string };
}

export const ENVIRONMENT_FAILURE_FIELDS = ["environment", "error"] as const;

export interface StatusDocument {
  schemaVersion: 1;
  /** The store's description (its directory, or etcd's endpoints and prefix). */
  store: string;
  environments: (EnvironmentStatus | EnvironmentFailure)[];
  clients: ClientRecord[];
}

export const STATUS_DOCUMENT_FIELDS = ["schemaVersion", "store", "environments", "clients"] as const;

export function isEnvironmentFailure(e: EnvironmentStatus | EnvironmentFailure): e is EnvironmentFailure {
  return "error" in e;
}

/**
 * The fleet records one server shares with the others of its store (docs/distribution.md, "Several servers"):
 * each server replaces its own document every few seconds; every server reads them all and shows the union.
 * A document not replaced for {@link SHARED_CLIENTS_STALE_MS} belongs to a server that is gone. Progressive
 * delivery's gates read the same records.
 */
export interface SharedClientsDocument {
  schemaVersion: 1;
  /** The writing server's id (random per process). */
  server: string;
  writtenAt: string;
  /** The clients whose requests that server answered (`connected`: an open connection to it). */
  clients: ClientRecord[];
}

export const SHARED_CLIENTS_FIELDS = ["schemaVersion", "server", "writtenAt", "clients"] as const;

/** A server's document older than this is ignored (the server stopped or lost the store). */
export const SHARED_CLIENTS_STALE_MS = 45_000;

/** A server id: what names its document in the store. */
export const SHARED_SERVER_ID = /^[A-Za-z0-9._-]{1,128}$/;

const isString = (v: unknown): v is string => typeof v === "string";
const isVersion = (v: unknown): v is number => Number.isSafeInteger(v) && (v as number) >= 0;
const isTime = (v: unknown): v is string => isString(v) && !Number.isNaN(Date.parse(v));

/**
 * A stored document read back, checked member by member: a record that is not one (another writer's bug, a
 * hand-edited file) is dropped, never shown; null when the document itself is not one.
 */
export function parseSharedClients(text: string): SharedClientsDocument | null {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch {
    return null;
  }
  if (typeof doc !== "object" || doc === null) return null;
  const d = doc as Record<string, unknown>;
  if (d.schemaVersion !== 1 || !isString(d.server) || !SHARED_SERVER_ID.test(d.server) || !isTime(d.writtenAt))
    return null;
  if (!Array.isArray(d.clients)) return null;
  const clients: ClientRecord[] = [];
  for (const raw of d.clients as unknown[]) {
    if (typeof raw !== "object" || raw === null) continue;
    const r = raw as Record<string, unknown>;
    const rejected = r.rejected as Record<string, unknown> | null | undefined;
    const rejectedOk =
      rejected === null ||
      (typeof rejected === "object" &&
        rejected !== undefined &&
        isVersion(rejected.version) &&
        isString(rejected.reason) &&
        isRejectionCode(rejected.reason) &&
        isTime(rejected.at));
    if (
      !isString(r.environment) ||
      !isString(r.service) ||
      !isString(r.instance) ||
      !(r.kind === null || (CLIENT_KINDS as readonly unknown[]).includes(r.kind)) ||
      !isVersion(r.version) ||
      !isTime(r.since) ||
      !isTime(r.lastSeen) ||
      typeof r.connected !== "boolean" ||
      !rejectedOk
    )
      continue;
    const refusal =
      rejected === null
        ? null
        : {
            version: rejected!.version as number,
            reason: rejected!.reason as RejectionCode,
            at: rejected!.at as string,
          };
    clients.push({
      environment: r.environment,
      service: r.service,
      instance: r.instance,
      kind: r.kind as ClientKind | null,
      version: r.version,
      since: r.since,
      lastSeen: r.lastSeen,
      connected: r.connected,
      rejected: refusal,
      state: clientState(r.version, refusal),
    });
  }
  return { schemaVersion: 1, server: d.server, writtenAt: d.writtenAt, clients };
}

type _SharedFields = Agree<FieldsOf<SharedClientsDocument, typeof SHARED_CLIENTS_FIELDS>>;
type _ClientFields = Agree<FieldsOf<ClientRecord, typeof CLIENT_RECORD_FIELDS>>;
type _EnvironmentFields = Agree<FieldsOf<EnvironmentStatus, typeof ENVIRONMENT_STATUS_FIELDS>>;
type _ServiceFields = Agree<FieldsOf<ServiceStatus, typeof SERVICE_STATUS_FIELDS>>;
type _ServiceFailureFields = Agree<FieldsOf<ServiceFailure, typeof SERVICE_FAILURE_FIELDS>>;
type _FailureFields = Agree<FieldsOf<EnvironmentFailure, typeof ENVIRONMENT_FAILURE_FIELDS>>;
type _StatusFields = Agree<FieldsOf<StatusDocument, typeof STATUS_DOCUMENT_FIELDS>>;
