/** The SDK's options (docs/runtime.md) and the settings a client runs with once they are checked. */
import { hostname } from "node:os";
import type { PublicKey } from "../core/snapshot/keys.js";
import type { Chain, ClientKind } from "../core/protocol/index.js";
import { isInstanceId } from "../core/protocol/client-header.js";
import { StrataClientError } from "./errors.js";
import { parseKeys, parseTrustedKeyList } from "./verify.js";

export interface ClientOptions {
  /** The endpoint's base URL (`https://config.example.com`). */
  endpoint: string;
  environment: string;
  /** Bearer token with `read:<environment>`; default `STRATA_TOKEN`. */
  token?: string;
  /**
   * This service: its name in the endpoint's fleet status, and, when strata.yaml declares services for the
   * environment, the service whose snapshot is read (only its namespaces; its token may be
   * `read:<environment>/<service>`).
   */
  service: string;
  /**
   * This process's id: its name in the fleet status and what its rollout cohort is computed from, so it must
   * survive a restart. Default: `STRATA_INSTANCE`, else the host name (a pod's name in Kubernetes). Set it
   * when several processes on one host must be told apart (e.g. `${hostname()}-worker-2`), to a value the
   * same process gets again after a restart.
   */
  instance?: string;
  /**
   * `ed25519:<base64>` keys that may sign rollout plans (`rollouts.trusted_keys` in strata.yaml). Without
   * them the client follows no plan: it runs the newest version and reports each plan it sees as refused.
   */
  rolloutKeys?: readonly string[];
  /** Health reports (`report()`): how often a batch is sent (default 5 000 ms). */
  reportIntervalMs?: number;
  /** Bearer token with `report:<environment>` for health reports; default `STRATA_REPORT_TOKEN`, else `token`. */
  reportToken?: string;
  /** `ed25519:<base64>` public keys; a snapshot needs a signature by one of them. */
  trustedKeys: readonly string[];
  /** age identity text (`AGE-SECRET-KEY-…` lines); default `SOPS_AGE_KEY`, then the file `SOPS_AGE_KEY_FILE`. */
  identity?: string;
  /** Last-known-good copy of the accepted snapshot (written atomically, mode 0600, secrets encrypted). */
  cacheFile?: string;
  /** How long `ready()` tries the endpoint before falling back to the cache (default 10 000 ms). */
  timeoutMs?: number;
  fetch?: typeof globalThis.fetch;
  /** Reconnect delays: full jitter, uniformly in [0, min(capMs, baseMs·2^attempt)). Default 500 ms / 30 s. */
  backoff?: { baseMs?: number; capMs?: number };
  /** `auto` (default): events, falling back to long-polling when they are refused or cut. */
  transport?: "auto" | "events" | "long-poll";
  /** Seconds a long-poll waits at the endpoint (default 30, at most 60). */
  waitSeconds?: number;
  /** Reported in the `Strata-Client` header: `sdk` (default) or `agent`. */
  kind?: ClientKind;
  /** Where the identity and token defaults are read (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /**
   * Take snapshots past their `expiresAt`, from the endpoint or the cache file (default false: refused as
   * `expired`). For sites that run disconnected from whoever refreshes them.
   */
  allowExpired?: boolean;
  /** The largest answer body read from the endpoint, in bytes (default 8 MiB, the endpoint's `--max-body`). */
  maxBodyBytes?: number;
}

/** The endpoint's own default `--max-body`: no snapshot it accepted is larger. */
const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

/** The options, checked and with their defaults. */
export interface Settings {
  endpoint: string;
  environment: string;
  trusted: PublicKey[];
  fetch: typeof globalThis.fetch;
  token: string | undefined;
  service: string;
  /**
   * The chain read: the service's, or the environment's once the endpoint says the environment declares no
   * services (or, offline, the cache file holds the environment's). Decided at start; fixed after.
   */
  reads: Chain;
  instance: string;
  kind: ClientKind;
  timeoutMs: number;
  baseMs: number;
  capMs: number;
  waitSeconds: number;
  env: NodeJS.ProcessEnv;
  cacheFile: string | null;
  identity: string | undefined;
  /** Where following starts: events unless long-polling was asked for. */
  transport: "events" | "long-poll";
  /** `events` or `long-poll` was asked for: never switch. */
  fixedTransport: boolean;
  allowExpired: boolean;
  maxBodyBytes: number;
  rolloutKeys: PublicKey[];
  reportIntervalMs: number;
  reportToken: string | undefined;
}

/**
 * The default instance id: `STRATA_INSTANCE`, else the host name. Not the pid: a restarted process must
 * keep its rollout cohort (a pod keeps its name across container restarts). Characters the header and the
 * reports cannot carry become `_`.
 */
export function defaultInstance(env: NodeJS.ProcessEnv = process.env): string {
  const id = env.STRATA_INSTANCE || hostname() || "localhost";
  return id.replace(/[\s\p{Cc}\p{Cf};=,]/gu, "_").slice(0, 128) || "localhost";
}

export function resolveSettings(options: ClientOptions): Settings {
  if (!options.endpoint) throw new StrataClientError("invalid-argument", "endpoint is required");
  if (!options.environment) throw new StrataClientError("invalid-argument", "environment is required");
  if (!options.service)
    throw new StrataClientError(
      "invalid-argument",
      "service is required (it names this service in the endpoint's fleet status)",
    );
  const env = options.env ?? process.env;
  const baseMs = Math.max(1, options.backoff?.baseMs ?? 500);
  const maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
  const instance = options.instance ?? defaultInstance(env);
  if (!isInstanceId(instance))
    throw new StrataClientError(
      "invalid-argument",
      `instance ${JSON.stringify(instance)} must be 1 to 128 characters without white space, control characters, ";", "=" or ","`,
    );
  const reportIntervalMs = options.reportIntervalMs ?? 5000;
  if (!Number.isSafeInteger(reportIntervalMs) || reportIntervalMs < 100)
    throw new StrataClientError(
      "invalid-argument",
      `reportIntervalMs must be a whole number of milliseconds, at least 100, not ${reportIntervalMs}`,
    );
  if (!Number.isSafeInteger(maxBodyBytes) || maxBodyBytes < 1)
    throw new StrataClientError("invalid-argument", `maxBodyBytes must be a positive integer, not ${maxBodyBytes}`);
  return {
    endpoint: options.endpoint.replace(/\/+$/, ""),
    environment: options.environment,
    trusted: parseTrustedKeyList(options.trustedKeys ?? []),
    fetch: options.fetch ?? globalThis.fetch,
    token: options.token ?? env.STRATA_TOKEN,
    service: options.service,
    reads: { environment: options.environment, service: options.service },
    instance,
    kind: options.kind ?? "sdk",
    timeoutMs: options.timeoutMs ?? 10_000,
    baseMs,
    capMs: Math.max(baseMs, options.backoff?.capMs ?? 30_000),
    waitSeconds: Math.min(60, Math.max(1, options.waitSeconds ?? 30)),
    env,
    cacheFile: options.cacheFile ?? null,
    identity: options.identity,
    transport: options.transport === "long-poll" ? "long-poll" : "events",
    fixedTransport: options.transport !== undefined && options.transport !== "auto",
    allowExpired: options.allowExpired === true,
    maxBodyBytes,
    rolloutKeys: parseKeys(options.rolloutKeys ?? [], "rolloutKeys"),
    reportIntervalMs,
    reportToken: options.reportToken ?? env.STRATA_REPORT_TOKEN ?? options.token ?? env.STRATA_TOKEN,
  };
}
