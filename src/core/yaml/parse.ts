/**
 * YAML text -> position-annotated nodes (LNode), with every problem as a located finding.
 * YAML 1.2 core schema (the `yaml` package); duplicate keys are errors; aliases are counted as they
 * expand (docs/reference.md, the repository: at most 100 per file); nesting is capped at 128; `<<` merge keys work; plain scalars
 * that YAML 1.1 tools read differently get a warning.
 */
import {
  CST,
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  Parser,
  type Document,
  type Node,
  Scalar,
  type YAMLError,
} from "yaml";
import { findingAt, type Finding, type SourcePosition } from "../findings.js";
import { describeKeyProblem, printable } from "../names.js";
import { readBlockSubset } from "./block-subset.js";
import { checkIntegerLiteral, keyAllowed, yaml11Hint } from "./scalars.js";
import type { LEntry, LMap, LNode, Pos } from "./nodes.js";

export const MAX_ALIASES = 100;
export const MAX_DEPTH = 128;

export interface ParseYamlOptions {
  /** `segments`: keys must be valid key segments, docs/reference.md (values files). `any`: any string key (schemas, strata.yaml). */
  keys: "segments" | "any";
  /** Allow `!unset` (values files, not SOPS files). */
  allowUnset: boolean;
  /** Allow more than one document (`---`). */
  multiDocument?: boolean;
}

export interface ParsedYaml {
  /** One per document; empty when the text has none. Null documents (empty file) are omitted. */
  documents: LNode[];
  findings: Finding[];
}

const UNSET_TAG = "!unset";
const CORE_TAGS = new Set([
  "tag:yaml.org,2002:str",
  "tag:yaml.org,2002:int",
  "tag:yaml.org,2002:float",
  "tag:yaml.org,2002:bool",
  "tag:yaml.org,2002:null",
  "tag:yaml.org,2002:map",
  "tag:yaml.org,2002:seq",
  UNSET_TAG,
]);

/** Bytes -> text: UTF-8 only (a NUL or invalid sequence is binary junk), BOM stripped. */
export function decodeText(bytes: Uint8Array, file: string): { text: string } | { finding: Finding } {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    const at = firstInvalidUtf8(bytes);
    const { line, column } = lineColumnOfByte(bytes, at);
    return {
      finding: findingAt(
        "yaml-syntax",
        { file, line: line, column: column },
        `not UTF-8 text (invalid byte at offset ${at})`,
        { hint: "values files are YAML text; keep binary data out of the repository or base64-encode it" },
      ),
    };
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  const nul = text.indexOf("\u0000");
  if (nul >= 0) {
    const before = text.slice(0, nul);
    const line = before.split("\n").length;
    const column = nul - before.lastIndexOf("\n");
    return {
      finding: findingAt("yaml-syntax", { file, line: line, column: column }, `a NUL character: not a YAML text file`),
    };
  }
  return { text };
}

/** Offset of the first byte of the first invalid UTF-8 sequence (RFC 3629: no overlongs, surrogates or > U+10FFFF). */
function firstInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length) {
    const b = bytes[i]!;
    let need = 0,
      min = 0;
    if (b < 0x80) {
      i++;
      continue;
    }
    if (b >= 0xc2 && b <= 0xdf) {
      need = 1;
      min = 0x80;
    } else if (b >= 0xe0 && b <= 0xef) {
      need = 2;
      min = 0x800;
    } else if (b >= 0xf0 && b <= 0xf4) {
      need = 3;
      min = 0x10000;
    } else return i;
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return bytes.length;
}

function lineColumnOfByte(bytes: Uint8Array, offset: number): { line: number; column: number } {
  let line = 1,
    column = 1;
  for (let i = 0; i < offset && i < bytes.length; i++) {
    if (bytes[i] === 0x0a) {
      line++;
      column = 1;
    } else column++;
  }
  return { line, column };
}

/**
 * YAML text with the position of every node, and every problem as a located finding. `general` reads a
 * text outside the block subset (the parse cache wraps {@link parseGeneral} there).
 */
export function parseYaml(
  text: string,
  file: string,
  options: ParseYamlOptions,
  general: (text: string) => ParsedYaml = (t) => parseGeneral(t, file, options),
): ParsedYaml {
  // Most files are in the plain block subset, which reads without the general parser and has no findings.
  const subset = readBlockSubset(text, file, options.keys);
  if (subset) return { documents: subset, findings: [] };
  return general(text);
}

/** Any YAML text, with the `yaml` package: what {@link parseYaml} gives for a text outside the block subset. */
export function parseGeneral(text: string, file: string, options: ParseYamlOptions): ParsedYaml {
  const findings: Finding[] = [];
  const lineCounter = new LineCounter();
  const posAt = (offset: number | undefined): Pos => {
    const { line, col } = lineCounter.linePos(offset ?? 0);
    return { file, line, column: col };
  };

  let docs: Document.Parsed[];
  try {
    docs = parseAllDocuments(text, {
      lineCounter,
      merge: true,
      uniqueKeys: true,
      prettyErrors: false,
      strict: true,
      customTags: [{ tag: UNSET_TAG, identify: () => false, resolve: () => null }],
    }) as Document.Parsed[];
  } catch (e) {
    findings.push(
      findingAt("yaml-limit", { file, line: 1, column: 1 }, `the YAML parser gave up (${(e as Error).message})`),
    );
    return { documents: [], findings };
  }
  if (!Array.isArray(docs)) docs = [docs];

  const documents: LNode[] = [];
  for (const doc of docs) {
    const hard = doc.errors.length > 0;
    for (const finding of describeErrors(doc.errors, doc, text, file, posAt)) findings.push(finding);
    if (hard) continue;
    if (doc.contents === null) continue;
    const walker = new Walker(doc, file, options, posAt, findings);
    const node = walker.walk(doc.contents as Node, 0);
    if (node) documents.push(node);
  }
  if (!options.multiDocument && documents.length > 1) {
    const pos = posAt(docs[1]?.range?.[0]);
    findings.push(
      findingAt(
        "yaml-syntax",
        { file, line: pos.line, column: pos.column },
        `more than one YAML document; a values file holds one`,
      ),
    );
  }
  return { documents, findings };
}

/**
 * The yaml library's errors as findings, one per mistake, where the user has to look. The parser reports
 * where it gave up, which for the commonest mistakes is far from the cause and comes with follow-on errors:
 * - an unclosed flow collection or quote is reported once, at the `{`, `[` or quote that opened it, and the
 *   errors after it (the rest of the file read as its content) are dropped;
 * - a key written without its colon before an indented map (`gateway` then `  host: x`) is one finding at
 *   the key that suggests the colon;
 * - an over-indented line under `key: value` (BLOCK_AS_IMPLICIT_KEY then MULTILINE_IMPLICIT_KEY at the end
 *   of the line above) is one finding at the line that is indented too far;
 * - a duplicate key names the key and both lines; a tab says it is a tab.
 */
function describeErrors(
  errors: readonly YAMLError[],
  doc: Document.Parsed,
  text: string,
  file: string,
  posAt: (offset: number | undefined) => Pos,
): Finding[] {
  const out: Finding[] = [];
  const at = (offset: number): SourcePosition => {
    const p = posAt(offset);
    return { file, line: p.line, column: p.column };
  };
  // An unclosed construct swallows everything after it: report it and nothing the parser said past it.
  const unclosed = errors.some(
    (e) => e.code === "BAD_INDENT" || e.code === "MISSING_CHAR" || e.code === "UNEXPECTED_TOKEN",
  )
    ? findUnclosed(text)
    : null;
  // Offsets covered by a finding already made (a missing colon's indented block).
  const covered: [number, number][] = [];
  const overIndentedAt = new Set<number>();
  for (const err of errors) if (err.code === "MULTILINE_IMPLICIT_KEY") overIndentedAt.add(err.pos[0]);
  const reportedOverIndent = new Set<number>();
  for (const err of errors) {
    const offset = err.pos[0];
    if (unclosed && offset >= unclosed.offset) continue;
    if (covered.some(([from, to]) => offset >= from && offset < to)) continue;
    const pos = at(offset);
    const firstLine = err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, "");
    const missingColon =
      err.code === "MULTILINE_IMPLICIT_KEY" ||
      (err.code === "MISSING_CHAR" && /followed by map values/.test(err.message))
        ? keyWithoutColon(text, offset)
        : null;
    if (err.code === "DUPLICATE_KEY") {
      out.push(duplicateKey(doc, offset, pos, firstLine, posAt));
    } else if (missingColon) {
      covered.push([missingColon.offset, missingColon.blockEnd]);
      out.push(
        findingAt(
          "yaml-syntax",
          at(missingColon.offset + missingColon.key.length),
          `missing ':' after ${missingColon.key}`,
          {
            hint: missingColon.indentedBlock
              ? `write \`${missingColon.key}:\`: a key whose value is the indented map below it needs a colon`
              : `write \`${missingColon.key}: VALUE\`, or remove the line`,
          },
        ),
      );
    } else if (
      (err.code === "MULTILINE_IMPLICIT_KEY" || err.code === "BLOCK_AS_IMPLICIT_KEY") &&
      overIndentedAt.has(offset)
    ) {
      if (reportedOverIndent.has(offset)) continue;
      reportedOverIndent.add(offset);
      out.push(overIndentedLine(text, file, offset, posAt));
    } else if (err.code === "TAB_AS_INDENT") {
      out.push(
        findingAt("yaml-syntax", pos, "a tab indents this line: YAML indents with spaces only", {
          hint: "replace the tab with spaces (as many as the level needs, usually 2)",
        }),
      );
    } else if (/maximum call stack/i.test(err.message)) {
      out.push(findingAt("yaml-limit", pos, `nesting too deep for the YAML parser`));
    } else {
      out.push(findingAt("yaml-syntax", pos, firstLine));
    }
  }
  if (unclosed) out.push(findingAt("yaml-syntax", at(unclosed.offset), unclosed.message, { hint: unclosed.hint }));
  return out;
}

interface Unclosed {
  offset: number;
  message: string;
  hint: string;
}

const CLOSER: Record<string, string> = { "{": "}", "[": "]" };
const FLOW_NAME: Record<string, string> = { "{": "flow map", "[": "flow sequence" };
const CLOSED_DOUBLE = /^"(?:[^"\\]|\\[\s\S])*"$/;
const CLOSED_SINGLE = /^'(?:[^']|'')*'$/;

/**
 * The construct a syntax error comes from, from the parser's concrete syntax tree: a quoted scalar that
 * never ends, else a flow collection closed by the wrong bracket (`[1, 2 }`: the `[` is the mistake), else
 * the first flow collection that is never closed. Null when there is none.
 */
function findUnclosed(text: string): Unclosed | null {
  const open: { offset: number; bracket: string; wrongCloser: boolean }[] = [];
  let quote = null as Unclosed | null;
  for (const token of new Parser().parse(text)) {
    if (token.type !== "document") continue;
    CST.visit(token, (item) => {
      for (const node of [item.start, item.key, item.sep, item.value]) {
        if (!node || Array.isArray(node)) continue;
        const t = node as CST.Token;
        if (t.type === "flow-collection") {
          const bracket = t.start.source;
          const closer = CLOSER[bracket];
          const ends = t.end.map((e) => e.source);
          if (closer !== undefined && !ends.includes(closer))
            open.push({ offset: t.offset, bracket, wrongCloser: ends.some((e) => e === "}" || e === "]") });
        } else if (quote === null && (t.type === "double-quoted-scalar" || t.type === "single-quoted-scalar")) {
          const source = t.source.trimEnd();
          const q = t.type === "double-quoted-scalar" ? '"' : "'";
          if (!(q === '"' ? CLOSED_DOUBLE : CLOSED_SINGLE).test(source))
            quote = {
              offset: t.offset,
              message: `this ${q} string is never closed: it runs to the end of the file`,
              hint: `end the string with ${q} on the same line${q === "'" ? " (write '' for a quote inside it)" : ' (write \\" for a quote inside it)'}`,
            };
        }
      }
    });
  }
  const flow = open.find((o) => o.wrongCloser) ?? open.sort((a, b) => a.offset - b.offset)[0];
  const flowFinding: Unclosed | null = flow
    ? {
        offset: flow.offset,
        message: `this ${flow.bracket} is never closed: a ${FLOW_NAME[flow.bracket]} ends with ${CLOSER[flow.bracket]}`,
        hint: `close it with ${CLOSER[flow.bracket]} where its items end (a flow collection may span lines, but everything up to the ${CLOSER[flow.bracket]} belongs to it)`,
      }
    : null;
  if (quote && flowFinding) return quote.offset < flowFinding.offset ? quote : flowFinding;
  return quote ?? flowFinding;
}

/**
 * `gateway` alone on a line (a plain word, no colon), usually followed by a more indented block: the key
 * of the map below it without its colon. The word's offset, the end of the indented block, or null.
 */
function keyWithoutColon(
  text: string,
  offset: number,
): { key: string; offset: number; blockEnd: number; indentedBlock: boolean } | null {
  const lineStart = text.lastIndexOf("\n", offset - 1) + 1;
  const lineEnd = text.indexOf("\n", lineStart);
  const line = text.slice(lineStart, lineEnd < 0 ? text.length : lineEnd);
  const m = /^( *)([A-Za-z0-9_$.-]+)[ \t]*(#.*)?\r?$/.exec(line);
  if (!m || lineStart + m[1]!.length !== offset) return null;
  const indent = m[1]!.length;
  // The indented block below it (blank and comment lines included) up to the next line as shallow as it.
  let end = lineEnd < 0 ? text.length : lineEnd + 1;
  let indentedBlock = false;
  while (end < text.length) {
    const next = text.indexOf("\n", end);
    const l = text.slice(end, next < 0 ? text.length : next);
    if (l.trim() !== "" && !l.trimStart().startsWith("#")) {
      if (l.length - l.trimStart().length <= indent) break;
      indentedBlock = true;
    }
    end = next < 0 ? text.length : next + 1;
  }
  return { key: m[2]!, offset, blockEnd: end, indentedBlock };
}

/** A duplicate key: its dotted path and the line of its first occurrence. */
function duplicateKey(
  doc: Document.Parsed,
  offset: number,
  pos: SourcePosition,
  parserMessage: string,
  posAt: (offset: number | undefined) => Pos,
): Finding {
  const found = findDuplicate(doc.contents as Node | null, offset, []);
  if (!found)
    return findingAt("duplicate-key", pos, `duplicate key (${parserMessage})`, {
      hint: "each key may appear once in a map",
    });
  const first = posAt(found.firstOffset);
  return findingAt(
    "duplicate-key",
    pos,
    `duplicate key ${found.path}: first on line ${first.line}, again on line ${pos.line}`,
    {
      key: found.path,
      hint: `each key may appear once in a map: keep one of them (line ${first.line} or line ${pos.line})`,
    },
  );
}

function findDuplicate(
  node: Node | null | undefined,
  offset: number,
  path: string[],
): { path: string; firstOffset: number } | null {
  if (isMap(node)) {
    const seen = new Map<unknown, number>();
    for (const pair of node.items) {
      const key = pair.key as Node | null;
      const value = isScalar(key) ? key.value : undefined;
      const name = path.length === 0 ? String(value) : `${path.join("")}.${String(value)}`;
      if (key?.range?.[0] === offset && seen.has(value)) return { path: name, firstOffset: seen.get(value)! };
      if (key?.range && !seen.has(value)) seen.set(value, key.range[0]);
      const inner = findDuplicate(pair.value as Node | null, offset, [path.length === 0 ? String(value) : name]);
      if (inner) return inner;
    }
  } else if (isSeq(node)) {
    for (const [i, item] of node.items.entries()) {
      const inner = findDuplicate(item as Node | null, offset, [...path, `[${i}]`]);
      if (inner) return inner;
    }
  }
  return null;
}

/** The line after the one holding `offset`, at its first non-blank character: the line indented too far. */
function overIndentedLine(
  text: string,
  file: string,
  offset: number,
  posAt: (offset: number | undefined) => Pos,
): Finding {
  const above = posAt(offset);
  let next = text.indexOf("\n", offset);
  // Skip blank and comment-only lines: the offending line is the next one with content.
  while (next >= 0) {
    const start = next + 1;
    const end = text.indexOf("\n", start);
    const line = text.slice(start, end < 0 ? text.length : end);
    if (line.trim() !== "" && !line.trimStart().startsWith("#")) break;
    next = end;
  }
  if (next < 0) {
    return findingAt(
      "yaml-syntax",
      { file, line: above.line, column: above.column },
      `a value cannot continue on a more indented line with a nested key`,
    );
  }
  const lineStart = next + 1;
  let first = lineStart;
  while (text[first] === " " || text[first] === "\t") first++;
  const at = posAt(first);
  return findingAt(
    "yaml-syntax",
    at,
    `this line is indented more than the key on line ${above.line}, but that key already has a value`,
    {
      hint: `indent it like the key on line ${above.line} if it belongs beside it, or remove the value on line ${above.line} if it belongs under it`,
    },
  );
}

const SAFE_INTEGER_HINT = "quote it to keep it as a string, or use a number within the range";

class Walker {
  private aliases = 0;
  private aliasLimitReported = false;
  private depthLimitReported = false;

  constructor(
    private readonly doc: Document.Parsed,
    private readonly file: string,
    private readonly options: ParseYamlOptions,
    private readonly posAt: (offset: number | undefined) => Pos,
    private readonly findings: Finding[],
  ) {}

  walk(node: Node | null | undefined, depth: number): LNode | null {
    if (node === null || node === undefined) return null;
    if (depth > MAX_DEPTH) {
      if (!this.depthLimitReported) {
        this.depthLimitReported = true;
        const pos = this.posAt(node.range?.[0]);
        this.findings.push(
          findingAt(
            "yaml-limit",
            { file: this.file, line: pos.line, column: pos.column },
            `nesting deeper than ${MAX_DEPTH} levels`,
          ),
        );
      }
      return null;
    }
    if (isAlias(node)) {
      if (++this.aliases > MAX_ALIASES) {
        if (!this.aliasLimitReported) {
          this.aliasLimitReported = true;
          const pos = this.posAt(node.range?.[0]);
          this.findings.push(
            findingAt(
              "yaml-limit",
              { file: this.file, line: pos.line, column: pos.column },
              `more than ${MAX_ALIASES} alias expansions`,
              { hint: "anchors and aliases are limited to stop alias bombs; write the values out" },
            ),
          );
        }
        return null;
      }
      const target = node.resolve(this.doc);
      if (!target) {
        const pos = this.posAt(node.range?.[0]);
        this.findings.push(
          findingAt(
            "yaml-syntax",
            { file: this.file, line: pos.line, column: pos.column },
            `unknown alias *${node.source}`,
          ),
        );
        return null;
      }
      return this.walk(target as Node, depth + 1);
    }
    const pos = this.posAt(node.range?.[0]);
    const tag = node.tag;
    if (tag && !CORE_TAGS.has(tag)) {
      this.findings.push(
        findingAt("yaml-syntax", { file: this.file, line: pos.line, column: pos.column }, `unsupported tag ${tag}`, {
          hint: "only the YAML core schema and !unset are supported",
        }),
      );
      return null;
    }
    if (tag === UNSET_TAG) {
      if (!this.options.allowUnset) {
        this.findings.push(
          findingAt(
            "yaml-syntax",
            { file: this.file, line: pos.line, column: pos.column },
            `!unset is not allowed here`,
            { hint: "!unset belongs in plain values files, not in encrypted ones" },
          ),
        );
        return null;
      }
      if (!isScalar(node) || (node.source !== undefined && node.source !== "" && node.source !== null)) {
        this.findings.push(
          findingAt("yaml-syntax", { file: this.file, line: pos.line, column: pos.column }, `!unset takes no value`),
        );
        return null;
      }
      return { kind: "unset", pos };
    }
    if (isScalar(node)) return this.scalar(node, pos);
    if (isSeq(node)) {
      const items: LNode[] = [];
      for (const item of node.items) {
        const child = this.walk(item as Node, depth + 1);
        if (child) items.push(child);
      }
      return { kind: "seq", pos, items };
    }
    if (isMap(node)) return this.map(node.items, pos, depth);
    this.findings.push(
      findingAt("yaml-syntax", { file: this.file, line: pos.line, column: pos.column }, `unsupported YAML node`),
    );
    return null;
  }

  private scalar(node: Scalar, pos: Pos): LNode | null {
    const v = node.value;
    if (typeof v === "number" && !Number.isFinite(v)) {
      this.findings.push(
        findingAt(
          "invalid-type",
          { file: this.file, line: pos.line, column: pos.column },
          `${String(v)} is not a JSON number`,
        ),
      );
      return null;
    }
    if (typeof v === "number" || typeof v === "bigint") {
      const problem = checkIntegerLiteral(typeof node.source === "string" ? node.source : String(v), v);
      if (problem) {
        this.findings.push(
          findingAt("invalid-type", { file: this.file, line: pos.line, column: pos.column }, `${problem}`, {
            hint: SAFE_INTEGER_HINT,
          }),
        );
        return null;
      }
    }
    if (typeof v === "bigint") return { kind: "scalar", pos, value: Number(v) };
    if (v !== null && typeof v !== "string" && typeof v !== "number" && typeof v !== "boolean") {
      this.findings.push(
        findingAt("yaml-syntax", { file: this.file, line: pos.line, column: pos.column }, `unsupported scalar`),
      );
      return null;
    }
    if (node.type === Scalar.PLAIN && typeof node.source === "string") this.checkYaml11(node.source, v, pos);
    return { kind: "scalar", pos, value: v };
  }

  private checkYaml11(source: string, value: unknown, pos: Pos): void {
    const hint = yaml11Hint(source, value);
    if (hint)
      this.findings.push(
        findingAt(
          "yaml-1.1-ambiguity",
          { file: this.file, line: pos.line, column: pos.column },
          `${source} means different things in YAML 1.1 and 1.2`,
          { hint },
        ),
      );
  }

  private map(pairs: unknown[], pos: Pos, depth: number): LMap {
    const entries = new Map<string, LEntry>();
    const merged: LMap[] = [];
    for (const pair of pairs) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as Node | null;
      const keyPos = this.posAt(keyNode?.range?.[0] ?? (pair.value as Node | null)?.range?.[0]);
      // Merge keys (`<<: *base` or `<<: [*a, *b]`): explicit keys win, earlier sources win over later.
      if (
        isScalar(keyNode) &&
        keyNode.source === "<<" &&
        keyNode.type === Scalar.PLAIN &&
        typeof keyNode.value === "symbol"
      ) {
        const sources = isSeq(pair.value) ? (pair.value.items as Node[]) : [pair.value as Node];
        for (const src of sources) {
          const m = this.walk(src, depth + 1);
          if (m?.kind === "map") merged.push(m);
          else if (m)
            this.findings.push(
              findingAt(
                "yaml-syntax",
                { file: this.file, line: keyPos.line, column: keyPos.column },
                `a << merge needs a map`,
              ),
            );
        }
        continue;
      }
      const key = isScalar(keyNode) ? keyNode.value : undefined;
      if (typeof key !== "string" || !keyAllowed(key, this.options.keys)) {
        const shown =
          typeof key === "string"
            ? describeKeyProblem(key)
            : key === null || key === undefined
              ? "a key must not be empty"
              : `"${printable(String(isScalar(keyNode) ? (keyNode.source ?? key) : "?"))}" is not a string key`;
        this.findings.push(
          findingAt(
            "invalid-key",
            { file: this.file, line: keyPos.line, column: keyPos.column },
            `invalid key: ${shown}`,
            { hint: "key segments start with a letter or _, then letters, digits, _ or -" },
          ),
        );
        continue;
      }
      const value =
        this.walk(pair.value as Node | null, depth + 1) ??
        (pair.value === null ? { kind: "scalar" as const, pos: keyPos, value: null } : null);
      if (value) entries.set(key, { keyPos, value });
    }
    for (const m of merged) for (const [k, e] of m.entries) if (!entries.has(k)) entries.set(k, e);
    return { kind: "map", pos, entries };
  }
}
