/** The parts of a running endpoint that the route handlers share (server.ts builds them). */
import type { PublicKey } from "../core/snapshot/index.js";
import type { SnapshotStore } from "../io/stores/index.js";
import type { Auth } from "./auth.js";
import type { ClientTracker } from "./clients.js";
import type { EnvironmentCache } from "./environments.js";
import type { LogFn } from "./log.js";
import type { RolloutManager } from "./rollouts/manager.js";
import type { ServerMetrics } from "./metrics.js";
import type { StoreReader } from "./store-reader.js";

/** Open long-polls and event streams (the `strata_watchers` gauge). */
interface WatcherCounts {
  longpoll: number;
  sse: number;
}

export interface EndpointParts {
  store: SnapshotStore;
  /** Every read of a stored version goes through it. */
  reader: StoreReader;
  cache: EnvironmentCache;
  clients: ClientTracker;
  /** Rollout plans, status, reports and (with a rollout key) the decision loop. */
  rollouts: RolloutManager;
  auth: Auth;
  metrics: ServerMetrics;
  log: LogFn;
  watchers: WatcherCounts;
  trustedKeys: readonly PublicKey[];
  maxBodyBytes: number;
  /** How often event streams carry a heartbeat. */
  heartbeatMs: number;
  /** The repository (`--repo`): the dashboard shows its environment tree and schema flags. */
  repoDir: string | null;
  /** Shutting down: long-polls answer at once, no new event stream stays open. */
  closing(): boolean;
}
