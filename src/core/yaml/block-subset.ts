/**
 * The plain block subset of YAML, read without the general parser: what nearly every values file and
 * schema is written in (block maps of simple keys, block sequences of scalars or of maps, one-line
 * scalars, flow collections closed on their line such as `[a, b]` and `{ type: string }`, comments). The
 * general parser (the `yaml` package) builds a concrete syntax tree and a document of nodes before
 * parse.ts walks it into positioned nodes; for this subset one pass over the lines builds them directly,
 * seven times faster (docs/performance.md, "Reading YAML").
 *
 * The rule that keeps it safe: the result is either exactly what the general path gives (the same nodes,
 * values, positions and no findings) or null, and the general path reads the text. Anything outside the
 * subset, and anything the general path would report (a duplicate key, an invalid key, a YAML 1.1
 * ambiguity, an integer past 2^53), gives null: so every finding, and every construct this reader does
 * not model (anchors, tags, block scalars, multi-line scalars and flow collections, escapes other than
 * JSON's), keeps its one home in parse.ts. test/core/yaml/block-subset.test.ts compares the two on
 * generated documents built from the subset's edges.
 */
import { isScalar, Schema } from "yaml";
import type { JsonPrimitive } from "../json.js";
import type { LEntry, LMap, LNode, LSeq, Pos } from "./nodes.js";
import { checkIntegerLiteral, keyAllowed, yaml11Hint } from "./scalars.js";

/** Not in the subset: the caller reads the text with the general parser. */
class OutsideSubset extends Error {}
const OUTSIDE = new OutsideSubset();

/** The core schema's scalar tags, as the general parser resolves plain scalars (the first default tag whose test matches). */
const PLAIN_TAGS = new Schema({ schema: "core" }).tags.filter(
  (t): t is typeof t & { test: RegExp } => t.default === true && t.test instanceof RegExp && !t.collection,
);
/** Keys this reader takes as they are written: they resolve to themselves as strings or are refused below. */
const SIMPLE_KEY = /^[A-Za-z_$][A-Za-z0-9_$.-]*$/;
/** Nesting this reader goes to; deeper text is the general parser's (which reports past its limit of 128). */
const MAX_SUBSET_DEPTH = 64;

const SPACE = 0x20;
const NEWLINE = 0x0a;
const HASH = 0x23;
const DASH = 0x2d;
const COLON = 0x3a;
const QUOTE = 0x22;
const APOSTROPHE = 0x27;
const COMMA = 0x2c;
const OPEN_SEQ = 0x5b;
const CLOSE_SEQ = 0x5d;
const OPEN_MAP = 0x7b;
const CLOSE_MAP = 0x7d;
/** Where a plain scalar inside a flow collection ends. */
const FLOW_SCALAR_END = new Set([COMMA, CLOSE_SEQ, CLOSE_MAP]);
/**
 * The plain scalars read inside a flow collection: printable ASCII and letters beyond it, not starting with an
 * indicator or `- `, without `:`, `#`, quotes or brackets (where YAML's flow rules get subtle).
 */
/* eslint-disable no-control-regex -- control characters are what it must refuse */
const FLOW_PLAIN =
  /^(?![-?](?: |$))[^\u0000-\u001f\u007f-\u009f?:,[\]{}#&*!|>'"%@`\\][^\u0000-\u001f\u007f-\u009f:,[\]{}#'"\\]*$/;
/* eslint-enable no-control-regex */
const SIMPLE_KEY_CHAR = /[A-Za-z0-9_$.-]/;
/** The start of a plain scalar that is an indicator in YAML (`-` is handled apart: `-1` is a scalar). */
const INDICATOR_START = new Set([..."?:,[]{}#&*!|>'\"%@`"].map((c) => c.charCodeAt(0)));
const JSON_ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};

/**
 * The document of `text` when it is in the subset (null: read it with the general parser). A text with
 * no content gives no document, as the general parser's empty document is dropped.
 */
export function readBlockSubset(text: string, file: string, keys: "segments" | "any"): LNode[] | null {
  // Tabs, carriage returns and other line breaks YAML knows are the general parser's to judge.
  if (/[\t\r\u0085\u2028\u2029\ufeff]/.test(text)) return null;
  try {
    const reader = new SubsetReader(text, file, keys);
    return reader.document();
  } catch (e) {
    if (e instanceof OutsideSubset) return null;
    throw e;
  }
}

class SubsetReader {
  /** Offset of the current line's first character. */
  private lineStart = 0;
  /** 1-based number of the current line. */
  private line = 1;
  /** Offset of the current line's first non-space character. */
  private contentStart = 0;

  constructor(
    private readonly text: string,
    private readonly file: string,
    private readonly keys: "segments" | "any",
  ) {}

  document(): LNode[] {
    this.skipBlankAndComments();
    if (this.atEnd()) return [];
    if (this.indent() !== 0) throw OUTSIDE;
    const node = this.block(0, 0);
    this.skipBlankAndComments();
    if (!this.atEnd()) throw OUTSIDE;
    return [node];
  }

  private atEnd(): boolean {
    return this.lineStart >= this.text.length;
  }

  private indent(): number {
    return this.contentStart - this.lineStart;
  }

  private lineEnd(): number {
    const end = this.text.indexOf("\n", this.lineStart);
    return end < 0 ? this.text.length : end;
  }

  private nextLine(): void {
    const end = this.text.indexOf("\n", this.lineStart);
    this.lineStart = end < 0 ? this.text.length : end + 1;
    this.line++;
    this.findContent();
  }

  private findContent(): void {
    let i = this.lineStart;
    while (this.text.charCodeAt(i) === SPACE) i++;
    this.contentStart = i;
  }

  /** Moves to the next line with content (not blank, not only a comment), or to the end. */
  private skipBlankAndComments(): void {
    this.findContent();
    while (!this.atEnd()) {
      const c = this.text.charCodeAt(this.contentStart);
      if (c !== NEWLINE && c !== HASH && this.contentStart < this.text.length) return;
      this.nextLine();
    }
  }

  private pos(offset: number): Pos {
    return { file: this.file, line: this.line, column: offset - this.lineStart + 1 };
  }

  private isItem(): boolean {
    const c = this.text.charCodeAt(this.contentStart + 1);
    return this.text.charCodeAt(this.contentStart) === DASH && (c === SPACE || c === NEWLINE || Number.isNaN(c));
  }

  /** The block collection whose first line (content at `indent`) is the current line. */
  private block(indent: number, depth: number): LNode {
    if (depth > MAX_SUBSET_DEPTH) throw OUTSIDE;
    return this.isItem() ? this.sequence(indent, depth) : this.map(indent, depth);
  }

  private map(indent: number, depth: number): LMap {
    const entries = new Map<string, LEntry>();
    const node: LMap = { kind: "map", pos: this.pos(this.contentStart), entries };
    for (;;) {
      const keyStart = this.contentStart;
      const end = this.lineEnd();
      if (!this.startsKey(keyStart, end)) throw OUTSIDE;
      const colon = this.simpleKeyEnd(keyStart, end);
      const key = this.text.slice(keyStart, colon);
      this.checkKey(key, entries);
      const keyPos = this.pos(keyStart);
      const inline = this.skipSpaces(colon + 1, end);
      let value: LNode;
      if (inline < end && this.text.charCodeAt(inline) !== HASH) {
        value = this.inlineValue(inline, end, depth + 1);
        this.nextLine();
        this.skipBlankAndComments();
        if (!this.atEnd() && this.indent() > indent) throw OUTSIDE;
      } else {
        // `key:` alone: the value is the block below it, or null. The general parser places an empty
        // value after the colon and the spaces that follow it: at the end of the line or its comment.
        const emptyAt = this.pos(inline);
        this.nextLine();
        this.skipBlankAndComments();
        if (!this.atEnd() && this.indent() > indent) value = this.block(this.indent(), depth + 1);
        else {
          // A sequence at the key's own indentation belongs to the key in YAML: the general parser's.
          if (!this.atEnd() && this.indent() === indent && this.isItem()) throw OUTSIDE;
          value = { kind: "scalar", pos: emptyAt, value: null };
        }
      }
      entries.set(key, { keyPos, value });
      if (this.atEnd() || this.indent() < indent) return node;
      if (this.indent() > indent || this.isItem()) throw OUTSIDE;
    }
  }

  private sequence(indent: number, depth: number): LSeq {
    const items: LNode[] = [];
    const node: LSeq = { kind: "seq", pos: this.pos(this.contentStart), items };
    for (;;) {
      const end = this.lineEnd();
      const inline = this.skipSpaces(this.contentStart + 1, end);
      // `-` alone (a nested block) or `- # comment`: the general parser's.
      if (inline >= end || this.text.charCodeAt(inline) === HASH) throw OUTSIDE;
      if (this.startsKey(inline, end)) {
        // `- key: value`: a map whose keys line up with this first one.
        this.contentStart = inline;
        items.push(this.map(inline - this.lineStart, depth + 1));
      } else {
        items.push(this.inlineValue(inline, end, depth + 1));
        this.nextLine();
      }
      this.skipBlankAndComments();
      if (this.atEnd() || this.indent() < indent) return node;
      if (this.indent() > indent || !this.isItem()) throw OUTSIDE;
    }
  }

  /** The end of the run of key characters from `at` (where its `:` must be). */
  private simpleKeyEnd(at: number, end: number): number {
    let i = at;
    while (i < end && SIMPLE_KEY_CHAR.test(this.text[i]!)) i++;
    return i;
  }

  /** Whether a simple key and its `:` (then a space or the end of the line) start at `at`. */
  private startsKey(at: number, end: number): boolean {
    const i = this.simpleKeyEnd(at, end);
    if (i === at || this.text.charCodeAt(i) !== COLON) return false;
    return i + 1 === end || this.text.charCodeAt(i + 1) === SPACE;
  }

  /** A key taken as written: a simple key that resolves to itself, allowed where it is, not a repeat. */
  private checkKey(key: string, entries: ReadonlyMap<string, LEntry>): void {
    if (
      !SIMPLE_KEY.test(key) ||
      key.length > 1024 ||
      !keyAllowed(key, this.keys) ||
      entries.has(key) ||
      resolvePlain(key) !== key
    )
      throw OUTSIDE;
  }

  private skipSpaces(from: number, end: number): number {
    let i = from;
    while (i < end && this.text.charCodeAt(i) === SPACE) i++;
    return i;
  }

  /** A scalar or a one-line flow collection from `start` to the end of its line (then only spaces and a comment). */
  private inlineValue(start: number, end: number, depth: number): LNode {
    const c = this.text.charCodeAt(start);
    const pos = this.pos(start);
    if (c === QUOTE || c === APOSTROPHE) {
      const { value, next } = c === QUOTE ? this.doubleQuoted(start, end) : this.singleQuoted(start, end);
      this.expectLineEnd(next, end);
      return { kind: "scalar", pos, value };
    }
    if (c === OPEN_SEQ || c === OPEN_MAP) {
      const { node, next } = this.flowCollection(start, end, depth);
      this.expectLineEnd(next, end);
      return node;
    }
    if (INDICATOR_START.has(c)) throw OUTSIDE;
    if (c === DASH) {
      const next = this.text.charCodeAt(start + 1);
      if (next === SPACE || start + 1 >= end) throw OUTSIDE;
    }
    // A plain scalar: to a comment (` #`) or the end of the line, trailing spaces dropped.
    let stop = start;
    while (stop < end && !(this.text.charCodeAt(stop) === HASH && this.text.charCodeAt(stop - 1) === SPACE)) stop++;
    let last = stop;
    while (last > start && this.text.charCodeAt(last - 1) === SPACE) last--;
    const source = this.text.slice(start, last);
    // `: ` or a final `:` would make it a key; the rest are characters YAML restricts.
    if (source.includes(": ") || source.charCodeAt(source.length - 1) === COLON) throw OUTSIDE;
    if (!noControlCharacters(source)) throw OUTSIDE;
    const value = resolvePlain(source);
    // The few plain scalars the general path warns about (YAML 1.1 readers take them differently) are its.
    if (yaml11Hint(source, value) !== null) throw OUTSIDE;
    return { kind: "scalar", pos, value };
  }

  /**
   * `[a, b]` or `{k: v, …}` closed on the same line: items and values are quoted scalars, plain scalars
   * without `:`, `#`, quotes or brackets, and nested collections of the same kind; no empty or trailing
   * entry, a space after each key's colon.
   */
  private flowCollection(start: number, end: number, depth: number): { node: LNode; next: number } {
    if (depth > MAX_SUBSET_DEPTH) throw OUTSIDE;
    const isSeq = this.text.charCodeAt(start) === OPEN_SEQ;
    const close = isSeq ? CLOSE_SEQ : CLOSE_MAP;
    const pos = this.pos(start);
    const items: LNode[] = [];
    const entries = new Map<string, LEntry>();
    const node: LNode = isSeq ? { kind: "seq", pos, items } : { kind: "map", pos, entries };
    let i = this.skipSpaces(start + 1, end);
    if (this.text.charCodeAt(i) === close) return { node, next: i + 1 };
    for (;;) {
      if (isSeq) {
        const item = this.flowValue(i, end, depth);
        items.push(item.node);
        i = item.next;
      } else {
        const keyEnd = this.simpleKeyEnd(i, end);
        const key = this.text.slice(i, keyEnd);
        if (this.text.charCodeAt(keyEnd) !== COLON || this.text.charCodeAt(keyEnd + 1) !== SPACE) throw OUTSIDE;
        this.checkKey(key, entries);
        const keyPos = this.pos(i);
        const value = this.flowValue(this.skipSpaces(keyEnd + 1, end), end, depth);
        entries.set(key, { keyPos, value: value.node });
        i = value.next;
      }
      i = this.skipSpaces(i, end);
      const c = this.text.charCodeAt(i);
      if (c === close) return { node, next: i + 1 };
      if (c !== COMMA) throw OUTSIDE;
      i = this.skipSpaces(i + 1, end);
      if (this.text.charCodeAt(i) === close) throw OUTSIDE; // a trailing comma: the general parser's
    }
  }

  /** An item or value inside a flow collection, and the offset after it. */
  private flowValue(start: number, end: number, depth: number): { node: LNode; next: number } {
    const c = this.text.charCodeAt(start);
    const pos = this.pos(start);
    if (c === QUOTE || c === APOSTROPHE) {
      const { value, next } = c === QUOTE ? this.doubleQuoted(start, end) : this.singleQuoted(start, end);
      return { node: { kind: "scalar", pos, value }, next };
    }
    if (c === OPEN_SEQ || c === OPEN_MAP) return this.flowCollection(start, end, depth + 1);
    let stop = start;
    while (stop < end && !FLOW_SCALAR_END.has(this.text.charCodeAt(stop))) stop++;
    let last = stop;
    while (last > start && this.text.charCodeAt(last - 1) === SPACE) last--;
    const source = this.text.slice(start, last);
    if (source === "" || !FLOW_PLAIN.test(source)) throw OUTSIDE;
    const value = resolvePlain(source);
    if (yaml11Hint(source, value) !== null) throw OUTSIDE;
    return { node: { kind: "scalar", pos, value }, next: stop };
  }

  private expectLineEnd(from: number, end: number): void {
    const i = this.skipSpaces(from, end);
    if (i === end) return;
    if (this.text.charCodeAt(i) !== HASH || i === from) throw OUTSIDE;
  }

  private doubleQuoted(start: number, end: number): { value: string; next: number } {
    let out = "";
    let i = start + 1;
    let run = i;
    for (; i < end; i++) {
      const c = this.text.charCodeAt(i);
      if (c === QUOTE) return { value: this.checked(out + this.text.slice(run, i)), next: i + 1 };
      if (c !== 0x5c) continue;
      out += this.text.slice(run, i);
      const e = this.text[i + 1] ?? "";
      if (e === "u") {
        const hex = this.text.slice(i + 2, i + 6);
        if (!/^[0-9a-fA-F]{4}$/.test(hex)) throw OUTSIDE;
        out += String.fromCharCode(parseInt(hex, 16));
        i += 5;
      } else {
        const s = JSON_ESCAPES[e];
        if (s === undefined) throw OUTSIDE;
        out += s;
        i += 1;
      }
      run = i + 1;
    }
    throw OUTSIDE; // not closed on its line
  }

  private singleQuoted(start: number, end: number): { value: string; next: number } {
    let out = "";
    let run = start + 1;
    for (let i = start + 1; i < end; i++) {
      if (this.text.charCodeAt(i) !== APOSTROPHE) continue;
      out += this.text.slice(run, i);
      if (this.text.charCodeAt(i + 1) !== APOSTROPHE) return { value: this.checked(out), next: i + 1 };
      out += "'";
      i++;
      run = i + 1;
    }
    throw OUTSIDE;
  }

  private checked(value: string): string {
    if (!noControlCharacters(value)) throw OUTSIDE;
    return value;
  }
}

/** No control characters (the general parser's to judge, or escapes this reader leaves to it). */
function noControlCharacters(s: string): boolean {
  // eslint-disable-next-line no-control-regex
  return !/[\u0000-\u001f\u007f-\u009f]/.test(s);
}

/** A plain scalar's value under the core schema, as the general parser resolves it; non-finite numbers are its. */
function resolvePlain(source: string): JsonPrimitive {
  for (const tag of PLAIN_TAGS) {
    if (!tag.test.test(source)) continue;
    const resolved = tag.resolve(
      source,
      () => {
        throw OUTSIDE;
      },
      { intAsBigInt: false } as never,
    ) as unknown;
    // Some tags give a Scalar (to keep a number's format), as the general parser unwraps.
    const value = isScalar(resolved) ? resolved.value : resolved;
    if (typeof value === "number") {
      // Not a JSON number, or not read exactly: the general path reports both.
      if (!Number.isFinite(value) || checkIntegerLiteral(source, value) !== null) throw OUTSIDE;
      return value;
    }
    if (value === null || typeof value === "boolean") return value;
    throw OUTSIDE;
  }
  return source;
}
