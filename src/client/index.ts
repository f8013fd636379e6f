/**
 * `strata-config/client`: the runtime SDK. It imports only the pure core (snapshot verification, the SOPS
 * engine, the wire protocol) and age-encryption, never the CLI, server or GitHub code. docs/runtime.md is
 * its manual.
 */
export { createClient, StrataClient } from "./client.js";
export type {
  ChangeEvent,
  ClientEvents,
  ClientOptions,
  ConfigSource,
  GetOptions,
  RefusedPlan,
  ReportInput,
  ReportStats,
  RolloutInfo,
  ReconnectedEvent,
  ReconnectEvent,
  WatchEvent,
} from "./client.js";
export { isRejection, StrataClientError } from "./errors.js";
export type { ClientErrorCode } from "./errors.js";
export { REJECTION_CODES, type RejectionCode } from "../core/protocol/codes.js";
export type { LeafChange } from "./tree.js";
export type { DeepReadonly, KeyPath, ValueAt } from "./types.js";
