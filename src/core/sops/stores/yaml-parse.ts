/**
 * Reads YAML into the sops tree the way sops does with go-yaml v3: documents in order, comments as
 * comment items where sops puts them, plain scalars typed by go-yaml's rules, aliases expanded (within
 * the same limits as the values reader: alias expansions per file and nesting depth).
 */
import {
  isAlias,
  isMap,
  isPair,
  isScalar,
  isSeq,
  LineCounter,
  parseAllDocuments,
  type Document,
  type Node as YNode,
} from "yaml";
import { MAX_ALIASES, MAX_DEPTH } from "../../yaml/parse.js";
import { Branch, Comment, SopsFloat, SopsInt, type Leaf, type TreeItem, type TreeValue } from "../tree.js";
import { parseGoTime, resolvePlainScalar } from "../yaml-scalars.js";
import { SopsFormatError, SopsLimitError } from "./errors.js";

function commentLines(text: string | null | undefined): Comment[] {
  if (!text) return [];
  return text
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => new Comment(l));
}

const TAG = "tag:yaml.org,2002:";

function taggedScalar(tag: string, text: string): Leaf {
  switch (tag) {
    case TAG + "str":
      return text;
    case TAG + "null":
      return null;
    case TAG + "bool": {
      const v = resolvePlainScalar(text);
      if (typeof v !== "boolean") throw new SopsFormatError(`cannot read ${JSON.stringify(text)} as a !!bool`);
      return v;
    }
    case TAG + "int": {
      const v = resolvePlainScalar(text);
      if (!(v instanceof SopsInt)) throw new SopsFormatError(`cannot read ${JSON.stringify(text)} as an !!int`);
      return v;
    }
    case TAG + "float": {
      const v = resolvePlainScalar(text);
      if (v instanceof SopsInt) return new SopsFloat(Number(v.value));
      if (!(v instanceof SopsFloat)) throw new SopsFormatError(`cannot read ${JSON.stringify(text)} as a !!float`);
      return v;
    }
    case TAG + "timestamp": {
      const t = parseGoTime(text);
      if (t === null) throw new SopsFormatError(`cannot read ${JSON.stringify(text)} as a !!timestamp`);
      return t;
    }
    case TAG + "binary":
      return Buffer.from(text.replace(/\s+/g, ""), "base64").toString("utf8");
    default:
      return text;
  }
}

/** Alias expansions so far, shared by the documents of one file (the limit is per file). */
interface Limits {
  aliases: number;
  lines: LineCounter;
}

class Reader {
  constructor(
    private readonly doc: Document,
    private readonly limits: Limits,
  ) {}

  private limitError(node: YNode, message: string): SopsLimitError {
    const at = this.limits.lines.linePos(node.range?.[0] ?? 0);
    return new SopsLimitError(message, at.line, at.col);
  }

  value(node: YNode | null | undefined, depth: number): TreeValue {
    if (node === null || node === undefined) return null;
    if (depth > MAX_DEPTH) throw this.limitError(node, `nesting deeper than ${MAX_DEPTH} levels`);
    if (isAlias(node)) {
      if (++this.limits.aliases > MAX_ALIASES) throw this.limitError(node, `more than ${MAX_ALIASES} alias expansions`);
      return this.value(node.resolve(this.doc) as YNode | undefined, depth + 1);
    }
    if (isMap(node)) return this.mapping(node, depth);
    if (isSeq(node)) {
      const out: TreeValue[] = [];
      out.push(...commentLines(node.commentBefore));
      for (const item of node.items as YNode[]) {
        out.push(...commentLines(item?.commentBefore));
        if (isScalar(item)) out.push(...commentLines(item.comment));
        out.push(this.value(item, depth + 1));
        if (!isScalar(item) && item?.comment) out.push(...commentLines(item.comment));
      }
      out.push(...commentLines(node.comment));
      return out;
    }
    if (isScalar(node)) {
      const text = node.value === null || node.value === undefined ? "" : String(node.value);
      if (node.tag) return taggedScalar(node.tag, text);
      return node.type === "PLAIN" ? resolvePlainScalar(text) : text;
    }
    throw new SopsFormatError("unsupported YAML node");
  }

  mapping(node: YNode, depth: number, head: Comment[] = []): Branch {
    if (!isMap(node)) throw new SopsFormatError("YAML documents that are not mappings are not supported");
    const items: TreeItem[] = head.map((c) => ({ key: c, value: null }));
    for (const c of commentLines(node.commentBefore)) items.push({ key: c, value: null });
    for (const pair of node.items) {
      if (!isPair(pair)) continue;
      const keyNode = pair.key as YNode | null;
      const valueNode = pair.value as YNode | null;
      for (const c of commentLines(keyNode?.commentBefore)) items.push({ key: c, value: null });
      for (const c of commentLines(keyNode?.comment)) items.push({ key: c, value: null });
      const valueIsScalar = valueNode === null || isScalar(valueNode) || isAlias(valueNode);
      if (valueIsScalar && valueNode) {
        for (const c of commentLines(valueNode.commentBefore)) items.push({ key: c, value: null });
        for (const c of commentLines(valueNode.comment)) items.push({ key: c, value: null });
      }
      const key = this.value(keyNode, depth + 1);
      if (typeof key !== "string") {
        throw new SopsFormatError(`only string keys are supported, found ${JSON.stringify(String(key))}`);
      }
      items.push({ key, value: this.value(valueNode, depth + 1) });
    }
    for (const c of commentLines(node.comment)) items.push({ key: c, value: null });
    return new Branch(items);
  }
}

/** Every document of a YAML stream as a branch. Keys are strings; `sops` is left in (metadata reads it). */
export function parseYamlBranches(text: string): Branch[] {
  const lines = new LineCounter();
  const limits: Limits = { aliases: 0, lines };
  const docs = parseAllDocuments(text, {
    schema: "failsafe",
    uniqueKeys: true,
    prettyErrors: false,
    lineCounter: lines,
  });
  if (!Array.isArray(docs)) throw new SopsFormatError("cannot read the YAML stream");
  const branches: Branch[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) throw new SopsFormatError(`YAML syntax error: ${err.message.split("\n")[0] ?? ""}`, { cause: err });
    const r = new Reader(doc, limits);
    const head = commentLines(doc.commentBefore);
    const contents = doc.contents as YNode | null;
    let branch: Branch;
    if (
      contents === null ||
      (isScalar(contents) && (contents.value === null || contents.value === "") && !contents.tag)
    ) {
      branch = new Branch(head.map((c) => ({ key: c, value: null })));
    } else if (isMap(contents)) {
      branch = r.mapping(contents, 0, head);
    } else if (isSeq(contents)) {
      throw new SopsFormatError("YAML documents that are sequences are not supported");
    } else throw new SopsFormatError("YAML documents that are values are not supported");
    for (const c of commentLines(doc.comment)) branch.items.push({ key: c, value: null });
    branches.push(branch);
  }
  return branches;
}
