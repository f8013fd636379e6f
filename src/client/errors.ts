/** Why a snapshot was refused; also the `reason` of the `Strata-Client` header (docs/runtime.md). */
export type RejectionCode =
  | "invalid-signature"
  | "digest-mismatch"
  | "wrong-environment"
  | "version-regression"
  | "decrypt-failed"
  | "mac-mismatch"
  | "invalid-snapshot";

export type ClientErrorCode =
  RejectionCode | "unknown-key" | "unreachable" | "unauthenticated" | "access-denied" | "invalid-argument" | "closed";

export const REJECTION_CODES: readonly RejectionCode[] = [
  "invalid-signature",
  "digest-mismatch",
  "wrong-environment",
  "version-regression",
  "decrypt-failed",
  "mac-mismatch",
  "invalid-snapshot",
];

/** Every failure the SDK reports: a stable code, a message that never carries a secret value. */
export class StrataClientError extends Error {
  readonly code: ClientErrorCode;
  /** The snapshot version concerned, when there is one. */
  readonly version: number | null;
  constructor(code: ClientErrorCode, message: string, options: { version?: number | null; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "StrataClientError";
    this.code = code;
    this.version = options.version ?? null;
  }
}

export function isRejection(e: unknown): e is StrataClientError & { code: RejectionCode } {
  return e instanceof StrataClientError && (REJECTION_CODES as readonly string[]).includes(e.code);
}
