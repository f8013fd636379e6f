export { startServer, DEFAULT_MAX_BODY_BYTES, type RunningServer, type ServerOptions } from "./server.js";
export { DEFAULT_LIMITS, type ServerLimits } from "./connections.js";
export { type LogFn, createJsonLogger } from "./log.js";
export { ClientTracker } from "./clients.js";
export { parseListenAddress, isLoopback } from "./listen.js";
export { createToken, readTokens, parseTokens, hashToken, Grant } from "./tokens.js";
export { runServe, type ServeOptions } from "./run.js";
