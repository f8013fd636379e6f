export { startServer, type RunningServer } from "./server.js";
export { type ServerLimits } from "./connections.js";
export { createJsonLogger } from "./log.js";
export { ClientTracker } from "./clients.js";
export { createToken, readTokens, hashToken, Grant } from "./tokens.js";
export { runServe } from "./run.js";
