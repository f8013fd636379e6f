/**
 * go-yaml v3's scalar style choice and quoting (`emitterc.go`: analyze_scalar, select_scalar_style and the
 * writers), so that strata writes each scalar exactly as sops does.
 */
import { stringNeedsQuotes } from "../yaml-scalars.js";

export type ScalarStyle = "plain" | "single" | "double" | "literal";

interface Analysis {
  multiline: boolean;
  blockPlainAllowed: boolean;
  singleQuotedAllowed: boolean;
  blockAllowed: boolean;
}

const isBreakCp = (cp: number): boolean => cp === 0x0a || cp === 0x0d || cp === 0x85 || cp === 0x2028 || cp === 0x2029;
const isPrintableCp = (cp: number): boolean =>
  cp === 0x0a ||
  (cp >= 0x20 && cp <= 0x7e) ||
  (cp >= 0xa0 && cp <= 0xd7ff) ||
  (cp >= 0xe000 && cp <= 0xfffd && cp !== 0xfeff);

function analyze(value: string): Analysis {
  if (value.length === 0)
    return { multiline: false, blockPlainAllowed: true, singleQuotedAllowed: true, blockAllowed: false };
  let blockIndicators = value.startsWith("---") || value.startsWith("...");
  let lineBreaks = false,
    special = false,
    tabs = false;
  let leadingSpace = false,
    leadingBreak = false,
    trailingSpace = false,
    trailingBreak = false;
  let breakSpace = false,
    spaceBreak = false,
    previousSpace = false,
    previousBreak = false;
  let precededByWhitespace = true;
  const cps = Array.from(value, (c) => c.codePointAt(0) ?? 0);
  for (let i = 0; i < cps.length; i++) {
    const cp = cps[i] ?? 0;
    const next = cps[i + 1];
    const followedByWhitespace = next === undefined || next === 0x20 || next === 0x09 || isBreakCp(next);
    const ch = String.fromCodePoint(cp);
    if (i === 0) {
      if ("#,[]{}&*!|>'\"%@`".includes(ch)) blockIndicators = true;
      else if ((ch === "?" || ch === ":") && followedByWhitespace) blockIndicators = true;
      else if (ch === "-" && followedByWhitespace) blockIndicators = true;
    } else {
      if (ch === ":" && followedByWhitespace) blockIndicators = true;
      else if (ch === "#" && precededByWhitespace) blockIndicators = true;
    }
    if (cp === 0x09) tabs = true;
    else if (!isPrintableCp(cp)) special = true;
    if (cp === 0x20) {
      if (i === 0) leadingSpace = true;
      if (i === cps.length - 1) trailingSpace = true;
      if (previousBreak) breakSpace = true;
      previousSpace = true;
      previousBreak = false;
    } else if (isBreakCp(cp)) {
      lineBreaks = true;
      if (i === 0) leadingBreak = true;
      if (i === cps.length - 1) trailingBreak = true;
      if (previousSpace) spaceBreak = true;
      previousSpace = false;
      previousBreak = true;
    } else {
      previousSpace = false;
      previousBreak = false;
    }
    precededByWhitespace = cp === 0x20 || cp === 0x09 || isBreakCp(cp);
  }
  let blockPlainAllowed = true,
    singleQuotedAllowed = true,
    blockAllowed = true;
  if (leadingSpace || leadingBreak || trailingSpace || trailingBreak) blockPlainAllowed = false;
  if (trailingSpace) blockAllowed = false;
  if (breakSpace) {
    blockPlainAllowed = false;
    singleQuotedAllowed = false;
  }
  if (spaceBreak || tabs || special) {
    blockPlainAllowed = false;
    singleQuotedAllowed = false;
  }
  if (spaceBreak || special) blockAllowed = false;
  if (lineBreaks) blockPlainAllowed = false;
  if (blockIndicators) blockPlainAllowed = false;
  return { multiline: lineBreaks, blockPlainAllowed, singleQuotedAllowed, blockAllowed };
}

/**
 * The style go-yaml writes a string in: literal when it has a newline, plain when that reads back as the
 * same string, double-quoted otherwise; then downgraded when the text does not allow the style.
 */
export function selectStringStyle(value: string, simpleKey: boolean): ScalarStyle {
  const requested: ScalarStyle = value.includes("\n") ? "literal" : stringNeedsQuotes(value) ? "double" : "plain";
  return selectStyle(value, requested, simpleKey);
}

/** Non-string scalars (numbers, booleans, null, times) are written plain when the text allows it. */
export function selectStyle(value: string, requested: ScalarStyle, simpleKey: boolean): ScalarStyle {
  const a = analyze(value);
  let style = requested;
  if (simpleKey && a.multiline) style = "double";
  if (style === "plain") {
    if (!a.blockPlainAllowed) style = "single";
    if (value.length === 0 && simpleKey) style = "single";
  }
  if (style === "single" && !a.singleQuotedAllowed) style = "double";
  if (style === "literal" && (!a.blockAllowed || simpleKey)) style = "double";
  return style;
}

const ESCAPES: Record<number, string> = {
  0x00: "0",
  0x07: "a",
  0x08: "b",
  0x09: "t",
  0x0a: "n",
  0x0b: "v",
  0x0c: "f",
  0x0d: "r",
  0x1b: "e",
  0x22: '"',
  0x5c: "\\",
  0x85: "N",
  0xa0: "_",
  0x2028: "L",
  0x2029: "P",
};

export function writeDoubleQuoted(value: string): string {
  let out = '"';
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0;
    if (!isPrintableCp(cp) || cp === 0xfeff || isBreakCp(cp) || cp === 0x22 || cp === 0x5c) {
      const e = ESCAPES[cp];
      if (e !== undefined) out += "\\" + e;
      else if (cp <= 0xff) out += "\\x" + cp.toString(16).toUpperCase().padStart(2, "0");
      else if (cp <= 0xffff) out += "\\u" + cp.toString(16).toUpperCase().padStart(4, "0");
      else out += "\\U" + cp.toString(16).toUpperCase().padStart(8, "0");
    } else out += ch;
  }
  return out + '"';
}

export function writeSingleQuoted(value: string): string {
  return "'" + value.replaceAll("'", "''") + "'";
}

/** The `|` header with go-yaml's indentation and chomping indicators. */
export function literalHeader(value: string, bestIndent: number): string {
  let h = "|";
  const first = value.codePointAt(0);
  if (first === 0x20 || (first !== undefined && isBreakCp(first))) h += String(bestIndent);
  const cps = Array.from(value, (c) => c.codePointAt(0) ?? 0);
  const last = cps[cps.length - 1];
  if (last === undefined || !isBreakCp(last)) h += "-";
  else if (cps.length === 1) h += "+";
  else {
    const before = cps[cps.length - 2];
    if (before !== undefined && isBreakCp(before)) h += "+";
  }
  return h;
}

export function isBreakChar(ch: string): boolean {
  return isBreakCp(ch.codePointAt(0) ?? 0);
}
