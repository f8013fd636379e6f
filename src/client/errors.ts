/** The SDK's errors: a stable code, a message that never carries a secret value. */
import { isRejectionCode, type RejectionCode } from "../core/protocol/index.js";
import type { PlanRefusal } from "../core/rollout/plan.js";

export type ClientErrorCode =
  | RejectionCode
  | "unknown-key"
  | "unknown-environment"
  | "unknown-service"
  | "unreachable"
  | "unauthenticated"
  | "access-denied"
  | "invalid-argument"
  | "plan-refused"
  | "closed";

/** Every failure the SDK reports: a stable code, a message that never carries a secret value. */
export class StrataClientError extends Error {
  readonly code: ClientErrorCode;
  /** The snapshot version concerned, when there is one. */
  readonly version: number | null;
  /** `unknown-service`: the services of the environment the endpoint has (empty: it declares none). */
  readonly services: readonly string[] | null;
  /** `plan-refused`: why the rollout plan was refused (its `version` is the plan's version, when it has one). */
  readonly refusal: PlanRefusal | null;
  constructor(
    code: ClientErrorCode,
    message: string,
    options: { version?: number | null; cause?: unknown; services?: readonly string[]; refusal?: PlanRefusal } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StrataClientError";
    this.code = code;
    this.version = options.version ?? null;
    this.services = options.services ?? null;
    this.refusal = options.refusal ?? null;
  }
}

/** A snapshot was refused (its code is one of `REJECTION_CODES`): the client keeps the one it has. */
export function isRejection(e: unknown): e is StrataClientError & { code: RejectionCode } {
  return e instanceof StrataClientError && isRejectionCode(e.code);
}
