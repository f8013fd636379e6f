/**
 * JSON store. Parsed with an order-preserving reader (`JSON.parse` moves integer-like keys first and that
 * changes the MAC); written like sops: compact encoding re-indented with tabs, Go's string escaping.
 */
import { formatJsonFloat } from "../go-format.js";
import { Branch, Comment, RawStr, SopsFloat, SopsInt, SopsTime, type TreeValue } from "../tree.js";
import { SopsFormatError } from "./errors.js";

class JsonReader {
  i = 0;
  constructor(readonly s: string) {}

  peek(): string | undefined {
    return this.s[this.i];
  }

  fail(what: string): never {
    throw new SopsFormatError(`invalid JSON at offset ${this.i}: ${what}`);
  }

  ws(): void {
    while (this.i < this.s.length && " \t\n\r".includes(this.s[this.i] ?? "")) this.i++;
  }

  value(depth: number): TreeValue {
    if (depth > 512) this.fail("nesting too deep");
    this.ws();
    const c = this.s[this.i];
    if (c === "{") return this.object(depth);
    if (c === "[") return this.array(depth);
    if (c === '"') return this.string();
    if (c === "t" && this.s.startsWith("true", this.i)) {
      this.i += 4;
      return true;
    }
    if (c === "f" && this.s.startsWith("false", this.i)) {
      this.i += 5;
      return false;
    }
    if (c === "n" && this.s.startsWith("null", this.i)) {
      this.i += 4;
      return null;
    }
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.s.slice(this.i, this.i + 400));
    if (m === null) this.fail("unexpected character");
    this.i += m[0].length;
    if (m[2] === undefined && m[3] === undefined) return new SopsInt(BigInt(m[0]));
    return new SopsFloat(Number(m[0]));
  }

  string(): string {
    const start = this.i;
    this.i++;
    while (this.i < this.s.length) {
      const c = this.s[this.i];
      if (c === "\\") this.i += 2;
      else if (c === '"') {
        this.i++;
        try {
          return JSON.parse(this.s.slice(start, this.i)) as string;
        } catch {
          this.fail("bad string");
        }
      } else this.i++;
    }
    return this.fail("unterminated string");
  }

  object(depth: number): Branch {
    this.i++;
    const b = new Branch();
    this.ws();
    if (this.s[this.i] === "}") {
      this.i++;
      return b;
    }
    for (;;) {
      this.ws();
      if (this.s[this.i] !== '"') this.fail("expected a key");
      const key = this.string();
      this.ws();
      if (this.s[this.i] !== ":") this.fail("expected ':'");
      this.i++;
      b.items.push({ key, value: this.value(depth + 1) });
      this.ws();
      if (this.s[this.i] === ",") {
        this.i++;
        continue;
      }
      if (this.s[this.i] === "}") {
        this.i++;
        return b;
      }
      this.fail("expected ',' or '}'");
    }
  }

  array(depth: number): TreeValue[] {
    this.i++;
    const out: TreeValue[] = [];
    this.ws();
    if (this.s[this.i] === "]") {
      this.i++;
      return out;
    }
    for (;;) {
      out.push(this.value(depth + 1));
      this.ws();
      if (this.s[this.i] === ",") {
        this.i++;
        continue;
      }
      if (this.s[this.i] === "]") {
        this.i++;
        return out;
      }
      this.fail("expected ',' or ']'");
    }
  }
}

/** The top-level object of a JSON document, keys in file order. */
export function parseJsonBranch(text: string): Branch {
  const r = new JsonReader(text.replace(/^\uFEFF/, ""));
  r.ws();
  if (r.peek() !== "{") {
    throw new SopsFormatError("SOPS only supports JSON files with a top-level object (starting with '{')");
  }
  const v = r.value(0);
  r.ws();
  if (r.s.slice(r.i).trim() !== "") r.fail("trailing data after the document");
  return v as Branch;
}

/** Go's `json.Marshal` of a string (HTML-safe escaping, `\u2028`/`\u2029`). */
function quoteJsonString(s: string): string {
  let out = '"';
  for (const ch of s) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\b") out += "\\b";
    else if (ch === "\f") out += "\\f";
    else if (cp < 0x20 || ch === "<" || ch === ">" || ch === "&" || cp === 0x2028 || cp === 0x2029)
      out += "\\u" + cp.toString(16).padStart(4, "0");
    else out += ch;
  }
  return out + '"';
}

function emitValue(v: TreeValue, depth: number, indent: string): string {
  const pad = indent.repeat(depth + 1);
  const close = indent.repeat(depth);
  if (v instanceof Branch) {
    const items = v.items.filter((i) => !(i.key instanceof Comment));
    if (items.length === 0) return "{}";
    return (
      "{\n" +
      items
        .map((i) => `${pad}${quoteJsonString(i.key as string)}: ${emitValue(i.value, depth + 1, indent)}`)
        .join(",\n") +
      `\n${close}}`
    );
  }
  if (Array.isArray(v)) {
    const items = v.filter((i) => !(i instanceof Comment));
    if (items.length === 0) return "[]";
    return "[\n" + items.map((i) => pad + emitValue(i, depth + 1, indent)).join(",\n") + `\n${close}]`;
  }
  if (v === null) return "null";
  if (typeof v === "string") return quoteJsonString(v);
  if (typeof v === "boolean") return v ? "true" : "false";
  if (v instanceof SopsInt) return v.value.toString();
  if (v instanceof SopsFloat) return formatJsonFloat(v.value);
  if (v instanceof SopsTime) return quoteJsonString(v.text);
  if (v instanceof Uint8Array) return quoteJsonString(Buffer.from(v).toString("base64"));
  if (v instanceof RawStr) return quoteJsonString(Buffer.from(v.bytes).toString("utf8"));
  return quoteJsonString(v.value);
}

/** One JSON document, tab-indented, with the trailing newline sops writes. */
export function emitJson(branch: Branch, indent = "\t"): string {
  return emitValue(branch, 0, indent) + "\n";
}
