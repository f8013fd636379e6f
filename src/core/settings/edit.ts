/**
 * Edits of strata.yaml that strata makes for the user (`strata keys generate` trusting its key). The file
 * is the user's: an edit changes the text where the new value belongs and nothing else, so comments,
 * alignment, quoting and flow style survive and the diff in review is the new line. Shapes a text edit
 * cannot handle safely fall back to the yaml library's Document API (comments kept, spacing normalized),
 * and every result is checked by parsing it back.
 */
import { isDeepStrictEqual } from "node:util";
import { isMap, isScalar, isSeq, LineCounter, parse, parseDocument, type Document, type Pair } from "yaml";
import { errorAt, StrataError, type SourcePosition } from "../findings.js";
import { SETTINGS_FILE } from "./settings.js";

export interface TextEdit {
  text: string;
  /** false: the key was there already and the text is unchanged. */
  added: boolean;
}

/** Adds `key` to `signing.trusted_keys` (creating either as needed). */
export function addTrustedKey(original: string, key: string): TextEdit {
  const crlf = original.includes("\r\n");
  const src = crlf ? original.replace(/\r\n/g, "\n") : original;
  const lines = new LineCounter();
  const doc = parseDocument(src, { lineCounter: lines });
  const at = (node: unknown): SourcePosition => {
    const { line, col } = lines.linePos(rangeOf(node)?.[0] ?? 0);
    return { file: SETTINGS_FILE, line, column: col };
  };
  if (doc.errors.length > 0) {
    const { line, col } = lines.linePos(doc.errors[0]!.pos[0]);
    throw errorAt("invalid-config", { file: SETTINGS_FILE, line, column: col }, "the file does not parse", {
      hint: "fix it (strata validate shows what is wrong), then run the command again",
    });
  }
  const before = (doc.toJS() ?? {}) as unknown;
  if (before === null || typeof before !== "object" || Array.isArray(before))
    throw errorAt("invalid-config", at(doc.contents), "the top level is not a map");
  const signing = (before as Record<string, unknown>).signing;
  if (signing !== undefined && signing !== null && (typeof signing !== "object" || Array.isArray(signing)))
    throw errorAt("invalid-config", at(doc.getIn(["signing"], true)), "signing is not a map");
  const current = (signing as Record<string, unknown> | null | undefined)?.trusted_keys;
  if (current !== undefined && current !== null && !Array.isArray(current))
    throw errorAt(
      "invalid-config",
      at(doc.getIn(["signing", "trusted_keys"], true)),
      "signing.trusted_keys is not a list",
      {
        hint: "write it as a list of ed25519:<base64> keys",
      },
    );
  if (Array.isArray(current) && current.includes(key)) return { text: original, added: false };

  const expected = {
    ...(before as Record<string, unknown>),
    signing: { ...(signing as object | null | undefined), trusted_keys: [...((current as unknown[]) ?? []), key] },
  };
  const accept = (text: string | null): string | null =>
    text !== null && isDeepStrictEqual(parse(text), expected) ? text : null;
  const edited = accept(textEdit(src, doc, key)) ?? accept(structuralEdit(doc, key));
  if (edited === null) throw new StrataError("internal", "could not add the key to strata.yaml");
  return { text: crlf ? edited.replace(/\n/g, "\r\n") : edited, added: true };
}

/** The edit as text insertions, or null for a shape it does not handle. */
function textEdit(src: string, doc: Document.Parsed, key: string): string | null {
  const root = doc.contents;
  const unit = indentUnit(src);
  const withNewline = (s: string): string => (s === "" || s.endsWith("\n") ? s : `${s}\n`);
  if (root === null) return `${withNewline(src)}signing:\n${unit}trusted_keys:\n${unit}${unit}- ${key}\n`;
  if (!isMap(root) || root.flow) return null;
  const signingPair = findPair(root.items, "signing");
  if (!signingPair) return `${withNewline(src)}signing:\n${unit}trusted_keys:\n${unit}${unit}- ${key}\n`;
  const signingKeyAt = rangeOf(signingPair.key)?.[0];
  if (signingKeyAt === undefined) return null;
  const signing = signingPair.value;
  if (signing === null) {
    const indent = indentOf(src, signingKeyAt) + unit;
    return insertAfterLine(src, signingKeyAt, `${indent}trusted_keys:\n${indent}${unit}- ${key}\n`);
  }
  if (!isMap(signing) || signing.flow || signing.items.length === 0) return null;
  const pair = findPair(signing.items, "trusted_keys");
  if (!pair) {
    const first = rangeOf(signing.items[0]!.key)?.[0];
    const lastEnd = signing.range?.[1];
    if (first === undefined || lastEnd === undefined) return null;
    const indent = " ".repeat(indentOf(src, first).length);
    return insertAfterLine(src, lastEnd - 1, `${indent}trusted_keys:\n${indent}${unit}- ${key}\n`);
  }
  const keyAt = rangeOf(pair.key)?.[0];
  if (keyAt === undefined) return null;
  const itemIndent = indentOf(src, keyAt) + unit;
  const list = pair.value;
  if (list === null) return insertAfterLine(src, keyAt, `${itemIndent}- ${key}\n`);
  if (!isSeq(list) || !list.range) return null;
  if (!list.flow) {
    const last = list.items.at(-1);
    const lastEnd = rangeOf(last)?.[1];
    if (lastEnd === undefined) return null;
    const indent = indentOf(src, list.range[0]);
    return insertAfterLine(src, lastEnd - 1, `${indent}- ${key}\n`);
  }
  // A flow list (`[]`, `[a, b]`): its items become block items under the key; a comment after it stays.
  const items: string[] = [];
  for (const item of list.items) {
    const r = rangeOf(item);
    if (!isScalar(item) || !r) return null;
    items.push(src.slice(r[0], r[1]));
  }
  let [from, to] = [list.range[0], list.range[1]];
  if (src[from - 1] === " ") from--;
  const lineEnd = src.indexOf("\n", to) < 0 ? src.length : src.indexOf("\n", to);
  if (src.slice(to, lineEnd).trim() === "") to = lineEnd;
  const without = src.slice(0, from) + src.slice(to);
  return insertAfterLine(without, keyAt, [...items, key].map((i) => `${itemIndent}- ${i}\n`).join(""));
}

/** The same edit through the Document API: comments kept, spacing and flow style normalized. */
function structuralEdit(doc: Document.Parsed, key: string): string | null {
  const copy = doc.clone();
  const list = copy.getIn(["signing", "trusted_keys"], true);
  if (isSeq(list)) {
    list.flow = false;
    list.items.push(copy.createNode(key));
  } else copy.setIn(["signing", "trusted_keys"], copy.createNode([key]));
  return copy.toString({ lineWidth: 0 });
}

function findPair(items: readonly Pair<unknown, unknown>[], name: string): Pair<unknown, unknown> | undefined {
  return items.find((p) => isScalar(p.key) && p.key.value === name);
}

function rangeOf(node: unknown): readonly [number, number, number] | undefined {
  return (node as { range?: [number, number, number] } | null)?.range ?? undefined;
}

/** The leading spaces of the line holding `offset`. */
function indentOf(src: string, offset: number): string {
  const start = src.lastIndexOf("\n", offset - 1) + 1;
  return /^ */.exec(src.slice(start))![0];
}

/** `text` inserted at the start of the line after the one holding `offset`. */
function insertAfterLine(src: string, offset: number, text: string): string {
  const nl = src.indexOf("\n", offset);
  if (nl < 0) return `${src}\n${text}`;
  return src.slice(0, nl + 1) + text + src.slice(nl + 1);
}

/** The file's indentation step: the smallest indentation of a line with content (2 when there is none). */
function indentUnit(src: string): string {
  let unit = 0;
  for (const line of src.split("\n")) {
    const spaces = /^( +)[^\s#-]/.exec(line)?.[1]?.length ?? 0;
    if (spaces > 0 && (unit === 0 || spaces < unit)) unit = spaces;
  }
  return " ".repeat(unit || 2);
}
