/**
 * The wire protocol of the distribution endpoint, declared once: the documents the endpoint answers, the
 * event-stream frames, the `Strata-Client` header and the codes. The server, the CLI's endpoint client,
 * the SDK and the dashboard (type-only) import it; docs/distribution.md, docs/runtime.md and
 * docs/reference.md describe it, and test/core/protocol.test.ts holds their tables to it.
 */
export * from "./client-header.js";
export * from "./chains.js";
export * from "./codes.js";
export * from "./dashboard.js";
export type * from "./errors.js";
export * from "./events.js";
export * from "./history.js";
export * from "./rollout.js";
export * from "./snapshot.js";
export * from "./status.js";
