/**
 * Plain views of a decrypted tree: JSON values for resolution and `--format json`, key paths for
 * `--extract` and `set`, and the reverse conversion for values that come in as JSON.
 */
import type { JsonValue } from "../json.js";
import { formatFloatF } from "./go-format.js";
import { Branch, Comment, RawStr, SopsFloat, SopsInt, SopsTime, type TreeValue } from "./tree.js";

export type KeyPath = (string | number)[];

/** A tree value as JSON: comments dropped, times as their RFC 3339 text, big integers as numbers. */
export function treeToJson(v: TreeValue): JsonValue {
  if (v instanceof Branch) {
    const o: { [k: string]: JsonValue } = {};
    for (const it of v.items)
      if (!(it.key instanceof Comment))
        Object.defineProperty(o, it.key, {
          value: treeToJson(it.value),
          enumerable: true,
          writable: true,
          configurable: true,
        });
    return o;
  }
  if (Array.isArray(v)) return v.filter((x) => !(x instanceof Comment)).map(treeToJson);
  if (v instanceof SopsInt) return Number(v.value);
  if (v instanceof SopsFloat) return v.value;
  if (v instanceof SopsTime) return v.text;
  if (v instanceof Comment) return v.value;
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  if (v instanceof RawStr) return Buffer.from(v.bytes).toString("utf8");
  return v;
}

/** A JSON value as a tree value; integral numbers become ints as sops' JSON store reads them. */
export function jsonToTree(v: JsonValue): TreeValue {
  if (v === null || typeof v === "string" || typeof v === "boolean") return v;
  if (typeof v === "number")
    return Number.isInteger(v) && Math.abs(v) <= Number.MAX_SAFE_INTEGER ? new SopsInt(BigInt(v)) : new SopsFloat(v);
  if (Array.isArray(v)) return v.map(jsonToTree);
  return new Branch(Object.entries(v).map(([key, value]) => ({ key, value: jsonToTree(value) })));
}

/** The text of a scalar as `decrypt --extract` prints it. */
export function scalarToText(v: TreeValue): string {
  if (typeof v === "string") return v;
  if (v instanceof SopsFloat) return formatFloatF(v.value);
  return JSON.stringify(treeToJson(v));
}

/**
 * Parses `["a"]["b"][0]` (sops) or `a.b[0]` / `a.b.0` (dotted). Returns null when the text is neither.
 */
export function parseKeyPath(text: string): KeyPath | null {
  const t = text.trim();
  if (t.startsWith("[")) {
    const out: KeyPath = [];
    const re = /\[\s*(?:"((?:[^"\\]|\\.)*)"|'([^']*)'|(\d+))\s*\]/y;
    let pos = 0;
    while (pos < t.length) {
      re.lastIndex = pos;
      const m = re.exec(t);
      if (m === null) return null;
      if (m[1] !== undefined) out.push(JSON.parse(`"${m[1]}"`) as string);
      else if (m[2] !== undefined) out.push(m[2]);
      else out.push(Number(m[3]));
      pos = re.lastIndex;
    }
    return out.length > 0 ? out : null;
  }
  if (t === "") return null;
  const out: KeyPath = [];
  for (const seg of t.split(".")) {
    const m = /^([^[\]]*)((?:\[\d+\])*)$/.exec(seg);
    if (m === null) return null;
    if (m[1] !== "") out.push(/^\d+$/.test(m[1] ?? "") && out.length > 0 ? Number(m[1]) : (m[1] as string));
    for (const idx of (m[2] ?? "").matchAll(/\[(\d+)\]/g)) out.push(Number(idx[1]));
  }
  return out.length > 0 ? out : null;
}

export function formatKeyPath(path: KeyPath): string {
  return path.map((p) => (typeof p === "number" ? `[${p}]` : `[${JSON.stringify(p)}]`)).join("");
}

/** The value at a path, or undefined. */
export function getAtPath(root: TreeValue, path: KeyPath): TreeValue | undefined {
  let cur: TreeValue | undefined = root;
  for (const p of path) {
    if (typeof p === "number" && Array.isArray(cur)) cur = cur.filter((x) => !(x instanceof Comment))[p];
    else if (cur instanceof Branch) cur = cur.items.find((i) => i.key === String(p))?.value;
    else return undefined;
  }
  return cur;
}

function fromPath(path: KeyPath, leaf: TreeValue): TreeValue {
  if (path.length === 0) return leaf;
  const [head, ...rest] = path;
  if (typeof head === "number") return [fromPath(rest, leaf)];
  return new Branch([{ key: head as string, value: fromPath(rest, leaf) }]);
}

/** sops' `TreeBranch.Set`: replaces or creates the value at the path (intermediate maps created). */
export function setAtPath(root: Branch, path: KeyPath, value: TreeValue): Branch {
  const set = (node: TreeValue, p: KeyPath): TreeValue => {
    const [head, ...rest] = p;
    if (node instanceof Branch && head !== undefined) {
      // A number on a mapping is a key made of digits (`a.0` where `a` is a map).
      const key = String(head);
      const idx = node.items.findIndex((i) => i.key === key);
      if (idx === -1) return new Branch([...node.items, { key, value: fromPath(rest, value) }]);
      const items = [...node.items];
      const cur = items[idx] as { key: string; value: TreeValue };
      items[idx] = { key, value: rest.length === 0 ? value : set(cur.value, rest) };
      return new Branch(items);
    }
    if (Array.isArray(node) && typeof head === "number") {
      const arr = [...node];
      if (head >= arr.length) arr.push(fromPath(rest, value));
      else arr[head] = rest.length === 0 ? value : set(arr[head] as TreeValue, rest);
      return arr;
    }
    return fromPath(p, value);
  };
  const out = set(root, path);
  if (!(out instanceof Branch)) throw new Error("the document root must stay a mapping");
  return out;
}
