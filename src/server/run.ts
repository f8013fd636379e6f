import { loadTrustedKeys } from "../app/distribution/index.js";
import { openStore } from "../io/stores/index.js";
import { parseListenAddress } from "./listen.js";
import { createJsonLogger } from "./log.js";
import { startServer, type LogFn, type RunningServer } from "./server.js";
import { readTokens } from "./tokens.js";

export interface ServeOptions {
  store: string;
  listen: string;
  tokens?: string | undefined;
  trustedKeys?: string | undefined;
  repo?: string | undefined;
  maxBodyBytes?: number | undefined;
  logLevel?: "debug" | "info" | "warn" | "error";
  log?: LogFn;
}

/**
 * `strata serve`: checks everything that can be wrong before opening the store (keys, tokens, address),
 * then listens. The caller owns the signals and calls `close()`.
 */
export async function runServe(options: ServeOptions): Promise<RunningServer> {
  const trustedKeys = await loadTrustedKeys({ file: options.trustedKeys, repoDir: options.repo });
  const tokens = options.tokens === undefined ? null : await readTokens(options.tokens);
  const listen = parseListenAddress(options.listen);
  const log = options.log ?? createJsonLogger({ level: options.logLevel ?? "info" });
  const store = await openStore(options.store);
  try {
    return await startServer({ store, trustedKeys, tokens, log, logRequests: options.logLevel === "debug", repoDir: options.repo ?? null, ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}) }, listen);
  } catch (e) {
    await store.close();
    throw e;
  }
}
