/**
 * go-yaml v3's scalar resolution (`resolve.go`): how sops types a plain YAML scalar when it reads, and
 * whether a string can be written plain when it writes.
 */
import { SopsFloat, SopsInt, SopsTime, type Leaf } from "./tree.js";

const NULLS = new Set(["", "~", "null", "Null", "NULL"]);
const TRUES = new Set(["true", "True", "TRUE"]);
const FALSES = new Set(["false", "False", "FALSE"]);
const FLOAT_NAMED: Record<string, number> = {
  ".inf": Infinity,
  ".Inf": Infinity,
  ".INF": Infinity,
  "+.inf": Infinity,
  "+.Inf": Infinity,
  "+.INF": Infinity,
  "-.inf": -Infinity,
  "-.Inf": -Infinity,
  "-.INF": -Infinity,
  ".nan": NaN,
  ".NaN": NaN,
  ".NAN": NaN,
};
const OLD_BOOLS = new Set([
  "y",
  "Y",
  "yes",
  "Yes",
  "YES",
  "on",
  "On",
  "ON",
  "n",
  "N",
  "no",
  "No",
  "NO",
  "off",
  "Off",
  "OFF",
]);
const YAML_STYLE_FLOAT = /^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$/;
const BASE60_FLOAT = /^[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?$/;
const INT64_MIN = -(2n ** 63n);
const UINT64_MAX = 2n ** 64n - 1n;

const TS_ZONED = /^(\d{4})-(\d{1,2})-(\d{1,2})[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;
const TS_LOCAL = /^(\d{4})-(\d{1,2})-(\d{1,2}) (\d{1,2}):(\d{1,2}):(\d{1,2})(\.\d+)?$/;
const TS_DATE = /^(\d{4})-(\d{1,2})-(\d{1,2})$/;
const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt](\d{2}):(\d{2}):(\d{2})(\.\d+)?(Z|z|[+-]\d{2}:\d{2})$/;

const pad = (n: number, w = 2): string => String(n).padStart(w, "0");

function validDate(y: number, mo: number, d: number, h: number, mi: number, s: number): boolean {
  if (mo < 1 || mo > 12 || d < 1 || h > 23 || mi > 59 || s > 59) return false;
  const dt = new Date(Date.UTC(y, mo - 1, d));
  return dt.getUTCDate() === d;
}

/** A Go time in the form `time.Time.MarshalText` writes it (RFC 3339, nanoseconds trimmed). */
export function parseGoTime(s: string, strictRfc3339 = false): SopsTime | null {
  let m: RegExpExecArray | null;
  let zone = "Z";
  let parts: (string | undefined)[];
  if (strictRfc3339) {
    m = RFC3339.exec(s);
    if (m === null) return null;
    parts = m.slice(1, 8);
    zone = m[8] === "z" ? "Z" : (m[8] ?? "Z");
  } else if ((m = TS_ZONED.exec(s)) !== null) {
    parts = m.slice(1, 8);
    zone = m[8] ?? "Z";
  } else if ((m = TS_LOCAL.exec(s)) !== null) {
    parts = m.slice(1, 8);
  } else if ((m = TS_DATE.exec(s)) !== null) {
    parts = [m[1], m[2], m[3], "0", "0", "0", undefined];
  } else return null;
  const [y, mo, d, h, mi, sec] = parts.slice(0, 6).map((x) => Number(x));
  if (!validDate(y ?? 0, mo ?? 0, d ?? 0, h ?? 0, mi ?? 0, sec ?? 0)) return null;
  const frac = (parts[6] ?? "").slice(1, 10).replace(/0+$/, "");
  if (zone === "+00:00" || zone === "-00:00") zone = "Z";
  return new SopsTime(
    `${pad(y ?? 0, 4)}-${pad(mo ?? 0)}-${pad(d ?? 0)}T${pad(h ?? 0)}:${pad(mi ?? 0)}:${pad(sec ?? 0)}${frac ? "." + frac : ""}${zone}`,
  );
}

function parseGoInt(text: string): bigint | null {
  let s = text;
  let neg = false;
  if (s.startsWith("+") || s.startsWith("-")) {
    neg = s.startsWith("-");
    s = s.slice(1);
  }
  let digits: RegExp;
  let prefix = "";
  if (/^0[xX]/.test(s)) {
    prefix = "0x";
    s = s.slice(2);
    digits = /^[0-9a-fA-F]+$/;
  } else if (/^0[oO]/.test(s)) {
    prefix = "0o";
    s = s.slice(2);
    digits = /^[0-7]+$/;
  } else if (/^0[bB]/.test(s)) {
    prefix = "0b";
    s = s.slice(2);
    digits = /^[01]+$/;
  } else if (/^0[0-9]/.test(s)) {
    prefix = "0o";
    s = s.slice(1);
    digits = /^[0-7]+$/;
  } else digits = /^[0-9]+$/;
  if (!digits.test(s)) return null;
  const v = BigInt(prefix + s) * (neg ? -1n : 1n);
  if (v < INT64_MIN || v > UINT64_MAX) return null;
  return v;
}

/** How go-yaml types an untagged plain scalar. */
export function resolvePlainScalar(s: string): Leaf {
  if (NULLS.has(s)) return null;
  if (TRUES.has(s)) return true;
  if (FALSES.has(s)) return false;
  const special = FLOAT_NAMED[s];
  if (special !== undefined) return new SopsFloat(special);
  const c = s[0];
  if (c === ".") {
    if (YAML_STYLE_FLOAT.test(s)) return new SopsFloat(Number(s));
    return s;
  }
  if (c === "-" || c === "+" || (c !== undefined && c >= "0" && c <= "9")) {
    const t = parseGoTime(s);
    if (t !== null && /^\d{4}-/.test(s)) return t;
    const plain = s.replaceAll("_", "");
    const i = parseGoInt(plain);
    if (i !== null) return new SopsInt(i);
    if (YAML_STYLE_FLOAT.test(plain)) return new SopsFloat(Number(plain));
  }
  return s;
}

/** go-yaml writes a string plain only when reading it back gives the same string. */
export function stringNeedsQuotes(s: string): boolean {
  // "<<" resolves to go-yaml's merge tag, so it is quoted too.
  return s === "<<" || typeof resolvePlainScalar(s) !== "string" || BASE60_FLOAT.test(s) || OLD_BOOLS.has(s);
}
