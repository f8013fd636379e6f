/**
 * `strata-config/client`: the runtime SDK. It imports only the pure core (snapshot verification, the SOPS
 * engine) and age-encryption, never the CLI, server or GitHub code. docs/runtime.md is its manual.
 */
export { createClient, StrataClient } from "./client.js";
export type { ChangeEvent, ClientEvents, ClientOptions, ReconnectEvent, WatchEvent } from "./client.js";
export { isRejection, REJECTION_CODES, StrataClientError } from "./errors.js";
export type { ClientErrorCode, RejectionCode } from "./errors.js";
export type { LeafChange } from "./tree.js";
export type { DeepReadonly, KeyPath, ValueAt } from "./types.js";
