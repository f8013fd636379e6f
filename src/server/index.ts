export {
  startServer,
  DEFAULT_LIMITS,
  DEFAULT_MAX_BODY_BYTES,
  type RunningServer,
  type ServerLimits,
  type ServerOptions,
  type LogFn,
} from "./server.js";
export { ClientTracker, parseClientHeader, sanitizeClientField } from "./clients.js";
export { parseListenAddress, isLoopback } from "./listen.js";
export { createToken, readTokens, parseTokens, hashToken, Grant } from "./tokens.js";
export { createJsonLogger } from "./log.js";
export { runServe, type ServeOptions } from "./run.js";
