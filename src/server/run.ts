import { readFile } from "node:fs/promises";
import { loadTrustedKeys } from "../app/distribution/index.js";
import { openStore } from "../io/stores/index.js";
import { parseListenAddress } from "./listen.js";
import { createJsonLogger } from "./log.js";
import { DEFAULT_LIMITS, type ServerLimits } from "./connections.js";
import type { LogFn } from "./log.js";
import { startServer, type RunningServer } from "./server.js";
import { readTokens } from "./tokens.js";

export interface ServeOptions {
  store: string;
  listen: string;
  tokens?: string | undefined;
  trustedKeys?: string | undefined;
  repo?: string | undefined;
  maxBodyBytes?: number | undefined;
  limits?: Partial<ServerLimits>;
  logLevel?: "debug" | "info" | "warn" | "error";
  log?: LogFn;
}

/** File descriptors kept free of connections: the store's files, etcd's channel, logs. */
const FD_RESERVE = 64;

/**
 * The soft limit on open files (Linux: /proc/self/limits), or null where it cannot be read. Connections are
 * capped below it so that a flood of connections never leaves the store unable to open a file.
 */
async function readOpenFileLimit(): Promise<number | null> {
  const text = await readFile("/proc/self/limits", "utf8").catch(() => null);
  const m = text === null ? null : /^Max open files\s+(\d+|unlimited)/m.exec(text);
  return m === null || m[1] === "unlimited" ? null : Number(m[1]);
}

/**
 * `strata serve`: checks everything that can be wrong before opening the store (keys, tokens, address),
 * then listens. The caller owns the signals and calls `close()`.
 */
export async function runServe(options: ServeOptions): Promise<RunningServer> {
  // --repo names the repository's root: trust is never borrowed from a parent directory's strata.yaml.
  const trustedKeys = await loadTrustedKeys({ file: options.trustedKeys, repoDir: options.repo, searchParents: false });
  const tokens = options.tokens === undefined ? null : await readTokens(options.tokens);
  const listen = parseListenAddress(options.listen);
  const log = options.log ?? createJsonLogger({ level: options.logLevel ?? "info" });
  const store = await openStore(options.store);
  try {
    const fds = await readOpenFileLimit();
    const maxConnections =
      options.limits?.maxConnections ??
      (fds === null
        ? DEFAULT_LIMITS.maxConnections
        : Math.max(16, Math.min(DEFAULT_LIMITS.maxConnections, fds - FD_RESERVE)));
    const limits = { ...options.limits, maxConnections };
    return await startServer(
      {
        store,
        trustedKeys,
        tokens,
        log,
        logRequests: options.logLevel === "debug",
        repoDir: options.repo ?? null,
        ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
        limits,
      },
      listen,
    );
  } catch (e) {
    await store.close();
    throw e;
  }
}
