import { createHash } from "node:crypto";
import canonicalizeModule from "canonicalize";
import { StrataError } from "../findings.js";

// canonicalize is CommonJS whose types declare an ES default export: under NodeNext the default import is
// module.exports at run time but typed as the namespace, so take whichever is the function.
type Canonicalize = (input: unknown) => string | undefined;
const canonicalize: Canonicalize =
  typeof canonicalizeModule === "function"
    ? (canonicalizeModule as Canonicalize)
    : (canonicalizeModule as unknown as { default: Canonicalize }).default;

/**
 * RFC 8785 (JCS) canonical JSON: sorted keys, ECMAScript number formatting, no whitespace. Digests and
 * signatures are computed over these bytes so that any client in any language can recompute them.
 */
export function canonicalJson(value: unknown): string {
  let text: string | undefined;
  try {
    text = canonicalize(value);
  } catch (cause) {
    throw new StrataError("invalid-snapshot", "the document cannot be written as canonical JSON (NaN or Infinity)", {
      cause,
    });
  }
  if (text === undefined) throw new StrataError("invalid-snapshot", "the document cannot be written as canonical JSON");
  return text;
}

/** Lowercase hex SHA-256. */
export function sha256Hex(data: string | Uint8Array): string {
  return createHash("sha256").update(data).digest("hex");
}

/** `sha256:` + lowercase hex of SHA-256 over the canonical JSON of `value`. */
export function digestOf(value: unknown): string {
  return `sha256:${sha256Hex(canonicalJson(value))}`;
}

export const DIGEST_PATTERN = /^sha256:[0-9a-f]{64}$/;
