/**
 * A YAML writer that reproduces go-yaml v3's encoder as sops drives it (`SetIndent(4)`, no line wrapping):
 * indentation, sequence and mapping layout, comment placement and scalar styles.
 */
import { formatYamlFloat } from "../go-format.js";
import { Branch, Comment, RawStr, SopsFloat, SopsInt, SopsTime, type TreeValue } from "../tree.js";
import {
  isBreakChar,
  literalHeader,
  selectStringStyle,
  selectStyle,
  writeDoubleQuoted,
  writeSingleQuoted,
  type ScalarStyle,
} from "./yaml-style.js";

const BEST_INDENT = 4;

/** Mirrors the emitter state go-yaml keeps: column, whether we only wrote indentation, and foot indent. */
class Writer {
  out = "";
  column = 0;
  indention = true;
  whitespace = true;
  footIndent = -1;

  put(s: string): void {
    this.out += s;
    this.column += s.length;
  }

  breakLine(): void {
    this.out += "\n";
    this.column = 0;
    this.indention = true;
  }

  writeIndent(indent: number): void {
    if (!this.indention || this.column > indent || (this.column === indent && !this.whitespace)) this.breakLine();
    if (this.footIndent === indent) this.breakLine();
    while (this.column < indent) this.put(" ");
    this.whitespace = true;
    this.footIndent = -1;
  }

  indicator(s: string, needWhitespace: boolean, isWhitespace: boolean, isIndention: boolean): void {
    if (needWhitespace && !this.whitespace) this.put(" ");
    this.put(s);
    this.whitespace = isWhitespace;
    this.indention = this.indention && isIndention;
  }

  comment(lines: readonly string[], indent: number): void {
    for (const [i, line] of lines.entries()) {
      if (i > 0) this.writeIndent(indent);
      this.put(line.startsWith("#") ? line : "#" + line);
      this.breakLine();
    }
    this.whitespace = true;
  }
}

interface ScalarText {
  text: string;
  style: ScalarStyle;
}

function scalarText(v: TreeValue, simpleKey: boolean): ScalarText {
  if (v instanceof RawStr) return scalarText(Buffer.from(v.bytes).toString("utf8"), simpleKey);
  if (typeof v === "string") return { text: v, style: selectStringStyle(v, simpleKey) };
  let text: string;
  if (v === null) text = "null";
  else if (typeof v === "boolean") text = v ? "true" : "false";
  else if (v instanceof SopsInt) text = v.value.toString();
  else if (v instanceof SopsFloat) text = formatYamlFloat(v.value);
  else if (v instanceof SopsTime) text = v.text;
  else if (v instanceof Uint8Array)
    return {
      text: Buffer.from(v).toString("utf8"),
      style: selectStringStyle(Buffer.from(v).toString("utf8"), simpleKey),
    };
  else throw new Error("not a scalar");
  return { text, style: selectStyle(text, "plain", simpleKey) };
}

function writeScalar(w: Writer, v: TreeValue, indent: number, simpleKey: boolean): void {
  const { text, style } = scalarText(v, simpleKey);
  switch (style) {
    case "plain":
      if (text.length > 0 && !w.whitespace) w.put(" ");
      w.put(text);
      if (text.length > 0) w.whitespace = false;
      w.indention = false;
      return;
    case "single":
      w.indicator(writeSingleQuoted(text), true, false, false);
      w.indention = false;
      return;
    case "double":
      w.indicator(writeDoubleQuoted(text), true, false, false);
      w.indention = false;
      return;
    case "literal": {
      w.indicator(literalHeader(text, BEST_INDENT), true, false, false);
      w.whitespace = true;
      let breaks = true;
      for (const ch of text) {
        if (isBreakChar(ch)) {
          if (ch === "\n") w.breakLine();
          else {
            w.out += ch;
            w.column = 0;
            w.indention = true;
          }
          breaks = true;
        } else {
          if (breaks) w.writeIndent(indent);
          w.put(ch);
          w.indention = false;
          breaks = false;
        }
      }
      return;
    }
  }
}

interface Grouped<T> {
  head: string[];
  entries: { head: string[]; item: T }[];
  foot: string[];
}

/** sops' appendTreeBranch: comments before the first item go to the container, then to the next item, the rest to the foot. */
function groupComments<T>(items: readonly T[], commentOf: (i: T) => string | null): Grouped<T> {
  const g: Grouped<T> = { head: [], entries: [], foot: [] };
  let pending: string[] = [];
  for (const it of items) {
    const c = commentOf(it);
    if (c !== null) pending.push(c);
    else {
      if (g.entries.length === 0) {
        g.head = pending;
        pending = [];
      }
      g.entries.push({ head: pending, item: it });
      pending = [];
    }
  }
  if (g.entries.length === 0) g.head = pending;
  else g.foot = pending;
  return g;
}

function alignedIndent(indent: number): number {
  return BEST_INDENT * Math.floor((indent + BEST_INDENT) / BEST_INDENT);
}

function isEmptyCollection(v: TreeValue): boolean {
  if (v instanceof Branch) return v.items.every((i) => i.key instanceof Comment);
  if (Array.isArray(v)) return v.every((i) => i instanceof Comment);
  return false;
}

/** Writes a node in block context; `indent` is the indentation its own content takes. */
function writeNode(w: Writer, v: TreeValue, indent: number, scalarIndent: number): void {
  if (v instanceof Branch) {
    if (isEmptyCollection(v)) return void w.indicator("{}", true, false, false);
    return writeMapping(w, v, indent);
  }
  if (Array.isArray(v)) {
    if (isEmptyCollection(v)) return void w.indicator("[]", true, false, false);
    return writeSequence(w, v, indent);
  }
  writeScalar(w, v, scalarIndent, false);
}

function writeFoot(w: Writer, foot: string[], indent: number): void {
  if (foot.length === 0) return;
  w.writeIndent(indent);
  w.comment(foot, indent);
  w.footIndent = indent;
}

/** A block of comment lines at `indent`, as go-yaml writes head comments; nothing when there are none. */
function writeComments(w: Writer, lines: string[], indent: number): void {
  if (lines.length === 0) return;
  w.writeIndent(indent);
  w.comment(lines, indent);
}

function writeMapping(w: Writer, branch: Branch, indent: number): void {
  const g = groupComments(branch.items, (i) => (i.key instanceof Comment ? i.key.value : null));
  writeComments(w, g.head, indent);
  for (const { head, item } of g.entries) {
    writeComments(w, head, indent);
    w.writeIndent(indent);
    const key = item.key as string;
    // go-yaml's check_simple_key: keys over 128 bytes or with line breaks are written as `? key`.
    if (Buffer.byteLength(key) > 128 || /[\n\r\u0085\u2028\u2029]/.test(key)) {
      w.indicator("?", true, false, true);
      writeScalar(w, key, alignedIndent(indent), false);
      w.writeIndent(indent);
      w.indicator(":", true, false, true);
    } else {
      writeScalar(w, key, indent, true);
      w.indicator(":", false, false, false);
    }
    const v = item.value;
    const nested = v instanceof Branch || Array.isArray(v) ? alignedIndent(indent) : indent;
    writeNode(w, v, nested, alignedIndent(indent));
  }
  writeFoot(w, g.foot, indent);
}

function writeSequence(w: Writer, seq: TreeValue[], indent: number): void {
  const g = groupComments(seq, (i) => (i instanceof Comment ? i.value : null));
  writeComments(w, g.head, indent);
  for (const { head, item } of g.entries) {
    writeComments(w, head, indent);
    w.writeIndent(indent);
    w.indicator("-", true, false, true);
    // "The first indent inside a sequence will just skip the '- ' indicator."
    writeNode(w, item, indent + 2, indent + 2);
  }
  writeFoot(w, g.foot, indent);
}

/** One YAML document per branch, separated by `---` as go-yaml's encoder does. */
export function emitYaml(branches: readonly Branch[]): string {
  const w = new Writer();
  for (const [i, branch] of branches.entries()) {
    if (i > 0) {
      w.writeIndent(0);
      w.indicator("---", true, false, false);
    }
    if (isEmptyCollection(branch)) {
      w.writeIndent(0);
      w.indicator("{}", true, false, false);
      const g = groupComments(branch.items, (it) => (it.key instanceof Comment ? it.key.value : null));
      if (g.head.length > 0) writeFoot(w, g.head, 0);
    } else writeMapping(w, branch, 0);
  }
  if (w.column > 0) w.breakLine();
  return w.out;
}
