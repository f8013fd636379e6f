/**
 * The codes that cross the wire: why a client refused a snapshot (its `error` events, the `reason` of its
 * `Strata-Client` header, the fleet status) and the `error.code` of the endpoint's error answers with the
 * HTTP status each is sent with. docs/runtime.md, docs/distribution.md and docs/reference.md list them; a
 * test holds their tables to these.
 */
import type { ErrorCode } from "../findings.js";

/** Why a snapshot was refused, in the order its checks run (docs/runtime.md, "Verification"). */
export const REJECTION_CODES = [
  "invalid-snapshot",
  "digest-mismatch",
  "invalid-signature",
  "wrong-environment",
  "expired",
  "version-regression",
  "decryption-failed",
  "mac-mismatch",
] as const;
export type RejectionCode = (typeof REJECTION_CODES)[number];

/**
 * Spellings that deployed clients may still send: the 0.1 SDKs reported secrets they could not open as
 * `decrypt-failed` (the CLI always said `decryption-failed`). The endpoint reads both from a client's
 * header and records the one spelling; nothing writes the old one.
 */
export const REJECTION_CODE_ALIASES: Readonly<Record<string, RejectionCode>> = {
  "decrypt-failed": "decryption-failed",
};

/** A rejection code from the wire (an alias read as its code), or null. */
export function parseRejectionCode(text: string | undefined): RejectionCode | null {
  if (text === undefined) return null;
  if ((REJECTION_CODES as readonly string[]).includes(text)) return text as RejectionCode;
  return Object.hasOwn(REJECTION_CODE_ALIASES, text) ? REJECTION_CODE_ALIASES[text]! : null;
}

export function isRejectionCode(code: string): code is RejectionCode {
  return (REJECTION_CODES as readonly string[]).includes(code);
}

/**
 * The endpoint's error codes and the status each is answered with (docs/distribution.md, "Errors").
 * A few answers use another status for the same code, named at the throw site and in the docs: `428`
 * version-conflict (no `If-Match`), `421` access-denied (a Host the server is not), `405` invalid-argument
 * (a known path, another method).
 */
export const HTTP_ERRORS = {
  "invalid-argument": 400,
  "invalid-snapshot": 400,
  "invalid-signature": 400,
  "digest-mismatch": 400,
  unauthenticated: 401,
  "access-denied": 403,
  "unknown-environment": 404,
  "unknown-service": 404,
  "not-found": 404,
  "version-conflict": 409,
  "rollout-frozen": 409,
  "rollout-conflict": 409,
  "payload-too-large": 413,
  "rate-limited": 429,
  "store-corrupt": 500,
  internal: 500,
  unreachable: 503,
  "push-failed": 503,
} as const satisfies Partial<Record<ErrorCode, number>>;
export type HttpErrorCode = keyof typeof HTTP_ERRORS;

export function isHttpErrorCode(code: string): code is HttpErrorCode {
  return Object.hasOwn(HTTP_ERRORS, code);
}
