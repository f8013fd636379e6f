/**
 * `strata serve`: the distribution endpoint of docs/distribution.md over a {@link SnapshotStore}, put together
 * from its parts: the listener and its connection limits (connections.ts), routing and auth (dispatch.ts,
 * routes.ts, auth.ts), the per-environment verified cache and watch (environments.ts) over the one verifying
 * store reader (store-reader.ts), the transports (transports/long-poll.ts, transports/events.ts), publish
 * (publish.ts), the other reads (reads.ts), status (status.ts), metrics (metrics.ts) and the dashboard (ui/).
 */
import { StrataError } from "../core/findings.js";
import type { StatusDocument } from "../core/protocol/index.js";
import type { PublicKey } from "../core/snapshot/index.js";
import type { SnapshotStore } from "../io/stores/index.js";
import { Auth } from "./auth.js";
import { ClientSharing } from "./client-sharing.js";
import { ClientTracker } from "./clients.js";
import { DEFAULT_LIMITS, Listener, type ServerLimits } from "./connections.js";
import { createDispatcher, type Handlers } from "./dispatch.js";
import { EnvironmentCache } from "./environments.js";
import { isLoopback, type ListenAddress } from "./listen.js";
import type { LogFn } from "./log.js";
import { clientMetrics, createMetrics, sendMetrics, type ServerMetrics } from "./metrics.js";
import type { EndpointParts } from "./parts.js";
import { publishHandlers } from "./publish.js";
import { readHandlers } from "./reads.js";
import { RolloutManager, type RolloutConfig } from "./rollouts/manager.js";
import { rolloutHandlers } from "./rollouts/handlers.js";
import { RevertPullRequests, type RevertPullRequestConfig } from "./rollouts/revert-pr.js";
import { buildStatus, statusHandlers } from "./status.js";
import { StoreReader } from "./store-reader.js";
import type { Grant } from "./tokens.js";
import { eventStreamHandlers } from "./transports/events.js";
import { longPollHandlers } from "./transports/long-poll.js";
import { dashboardHandlers } from "./ui/index.js";

const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;

export interface ServerOptions {
  store: SnapshotStore;
  trustedKeys: readonly PublicKey[];
  /** Token hash -> grant; null: no tokens file, everything allowed, loopback only. */
  tokens: Map<string, Grant> | null;
  maxBodyBytes?: number;
  log?: LogFn;
  /** Log every request, reads included (debug); otherwise writes, errors and slow requests only. */
  logRequests?: boolean;
  limits?: Partial<ServerLimits>;
  /** The repository (`--repo`): the dashboard shows its environment tree and schema flags. */
  repoDir?: string | null;
  /** Rollouts (`--rollout-key` and strata.yaml `rollouts:`); without, the server serves plans but makes none. */
  rollouts?: RolloutConfig | null;
  /** `--github-repository`: an automatic rollback opens the revert pull request of its version's commit. */
  revertPullRequests?: RevertPullRequestConfig | null;
}

export interface RunningServer {
  readonly url: string;
  readonly address: import("node:net").AddressInfo;
  readonly metrics: ServerMetrics;
  /** Stops accepting, answers open long-polls with 304, ends event streams, closes the store. */
  close(): Promise<void>;
  /** Swaps in a re-read tokens file (SIGHUP); auth cannot be turned on or off while running. */
  replaceTokens(tokens: Map<string, Grant>): void;
  /** What `GET /v1/status` answers a caller with `grant` (null: everything). */
  status(grant?: Grant | null): Promise<StatusDocument>;
}

export function startServer(options: ServerOptions, listen: ListenAddress): Promise<RunningServer> {
  if (options.tokens === null && !isLoopback(listen.host)) {
    return Promise.reject(
      new StrataError(
        "invalid-argument",
        `refusing to listen on ${listen.host} without a tokens file: anyone could publish`,
        {
          hint: "pass --tokens FILE (create tokens with `strata serve token create`), or listen on 127.0.0.1",
        },
      ),
    );
  }
  return new Endpoint(options).listen(listen);
}

class Endpoint {
  private readonly parts: EndpointParts;
  private readonly listener: Listener;
  private closing = false;
  private heartbeat: NodeJS.Timeout | null = null;
  private reverts: RevertPullRequests | null = null;
  private readonly sharing: ClientSharing;

  constructor(options: ServerOptions) {
    const log = options.log ?? (() => undefined);
    const watchers = { longpoll: 0, sse: 0 };
    const publishedAt = (environment: string, version: number): string | null => {
      const head = this.parts.cache.latest(environment)?.head;
      return head?.version === version ? head.publishedAt : null;
    };
    const metrics = createMetrics({
      watchers: () => watchers,
      versions: () => this.parts.cache.versions(),
      load: () => ({ connections: this.listener.connections, environments: this.parts.cache.size }),
      clients: () => this.parts.clients.list(),
      publishedAt,
    });
    const reader = new StoreReader(options.store, options.trustedKeys, log);
    const limits = { ...DEFAULT_LIMITS, ...options.limits };
    const cache = new EnvironmentCache(options.store, reader, metrics, log);
    const clients = new ClientTracker(undefined, clientMetrics(metrics, { publishedAt }));
    const sharing = new ClientSharing(options.store, clients, log);
    const rollouts = new RolloutManager(
      options.store,
      cache,
      reader,
      clients,
      log,
      sharing.server,
      options.rollouts ?? null,
    );
    cache.beforeVersion = (key) => rollouts.refresh(key);
    if (options.revertPullRequests) {
      const reverts = new RevertPullRequests(options.revertPullRequests, reader, log);
      rollouts.onChange((kind, record, actor) => reverts.changed(kind, record, actor));
      this.reverts = reverts;
    }
    this.parts = {
      store: options.store,
      reader,
      cache,
      clients,
      rollouts,
      auth: new Auth(options.tokens),
      metrics,
      log,
      watchers,
      trustedKeys: options.trustedKeys,
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      heartbeatMs: limits.heartbeatMs,
      repoDir: options.repoDir ?? null,
      closing: () => this.closing,
    };
    this.sharing = sharing;
    const handlers: Handlers = {
      ...publishHandlers(this.parts),
      ...longPollHandlers(this.parts),
      ...eventStreamHandlers(this.parts),
      ...readHandlers(this.parts),
      ...rolloutHandlers(this.parts),
      ...statusHandlers(this.parts),
      "GET metrics": ({ res, query }) => sendMetrics(res, metrics, query),
      ...dashboardHandlers(this.parts),
    };
    const dispatch = createDispatcher({
      auth: this.parts.auth,
      handlers,
      metrics,
      log,
      logRequests: options.logRequests === true,
    });
    this.listener = new Listener(limits, metrics, (req, res) => void dispatch(req, res));
  }

  async listen(listen: ListenAddress): Promise<RunningServer> {
    const { cache, auth, store, log, metrics } = this.parts;
    cache.start();
    await this.parts.rollouts.start();
    // Clients holding a long-poll or stream open are seen on every heartbeat (their lastSeen moves).
    this.heartbeat = setInterval(() => this.parts.clients.heartbeat(), this.parts.heartbeatMs);
    this.heartbeat.unref();
    this.sharing.start();
    const { url, address, host } = await this.listener.listen(listen);
    auth.restrictHosts(host, address.port);
    log("info", "listening", {
      url,
      store: store.description,
      auth: auth.enabled,
      trustedKeys: this.parts.trustedKeys.map((k) => k.keyid),
      limits: this.listener.limits,
    });
    return {
      url,
      address,
      metrics,
      close: () => this.close(),
      replaceTokens: (tokens) => auth.replaceTokens(tokens),
      status: (grant = null) => buildStatus(this.parts, grant),
    };
  }

  private async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    const { cache, watchers, log, store, clients } = this.parts;
    if (this.heartbeat !== null) clearInterval(this.heartbeat);
    clients.close();
    await this.parts.rollouts.close();
    await this.reverts?.close();
    await this.sharing.close();
    log("info", "shutting down", { longpolls: watchers.longpoll, streams: watchers.sse });
    await this.listener.close(() => cache.close());
    await store.close();
  }
}
