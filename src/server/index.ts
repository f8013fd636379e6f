export { startServer, DEFAULT_MAX_BODY_BYTES, type RunningServer, type ServerOptions, type LogFn } from "./server.js";
export { parseListenAddress, isLoopback } from "./listen.js";
export { createToken, readTokens, parseTokens, hashToken, Grant } from "./tokens.js";
export { createJsonLogger } from "./log.js";
export { runServe, type ServeOptions } from "./run.js";
