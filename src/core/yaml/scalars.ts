/**
 * The rules for plain scalars and keys that both YAML readers apply (parse.ts, the general one, and
 * block-subset.ts, the fast one): their one home.
 */
import { isValidKeySegment, printable } from "../names.js";

/** Integers JSON readers keep exactly: ±(2^53−1). */
const SAFE_INTEGER_RANGE = `-${Number.MAX_SAFE_INTEGER} to ${Number.MAX_SAFE_INTEGER}`;
const INTEGER_LITERAL = /^[-+]?(?:[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$/;

/**
 * Why a number written as `source` cannot be read exactly, or null when it can. An integer literal
 * outside ±(2^53−1) would silently become a neighbouring number in every JSON reader (and in strata's
 * snapshots), so it is refused rather than rounded. Floats (with `.` or an exponent) are approximate by
 * nature and are not checked. Readers of decrypted SOPS values use it too.
 */
export function checkIntegerLiteral(source: string, value: number | bigint): string | null {
  if (typeof value === "bigint") {
    if (value <= BigInt(Number.MAX_SAFE_INTEGER) && value >= -BigInt(Number.MAX_SAFE_INTEGER)) return null;
  } else if (!Number.isInteger(value) || Number.isSafeInteger(value) || !INTEGER_LITERAL.test(source.trim()))
    return null;
  return `${printable(source.trim().slice(0, 40))} is outside the range of exact integers (${SAFE_INTEGER_RANGE}, ±(2^53−1)); it would be read as a different number`;
}

const YAML11_BOOL = /^(y|Y|yes|Yes|YES|n|N|no|No|NO|on|On|ON|off|Off|OFF)$/;
const YAML11_OCTAL = /^[-+]?0[0-9_]+$/;
const YAML11_SEXAGESIMAL = /^[-+]?[0-9][0-9_]*(:[0-5]?[0-9])+(\.[0-9_]*)?$/;
const YAML11_UNDERSCORE_NUMBER = /^[-+]?[0-9][0-9_]*_[0-9_]*(\.[0-9_]*)?$/;

/**
 * For a plain scalar that YAML 1.1 tools read differently from strata (YAML 1.2), what to do about it;
 * null for every other scalar. `value` is what strata read.
 */
export function yaml11Hint(source: string, value: unknown): string | null {
  if (YAML11_BOOL.test(source))
    return `YAML 1.1 tools read ${source} as a boolean; strata (YAML 1.2) reads the string "${source}". Quote it, or write true/false`;
  if (YAML11_OCTAL.test(source))
    return `YAML 1.1 tools read ${source} as an octal number; strata (YAML 1.2) reads ${String(value)}. Quote it if it is a string, or drop the leading zero`;
  if (YAML11_SEXAGESIMAL.test(source))
    return `YAML 1.1 tools read ${source} as a base-60 number; strata reads the string "${source}". Quote it`;
  if (YAML11_UNDERSCORE_NUMBER.test(source))
    return `YAML 1.1 tools read ${source} as a number; strata reads the string "${source}". Quote it, or write the digits without _`;
  return null;
}

/**
 * Whether a string key is allowed: in values files (`segments`) a key segment, or `$unset` (checked where
 * it means something: items of arrays merged by a field); elsewhere any key but `__proto__`.
 */
export function keyAllowed(key: string, keys: "segments" | "any"): boolean {
  if (keys === "segments") return key === "$unset" || isValidKeySegment(key);
  return key !== "__proto__";
}
