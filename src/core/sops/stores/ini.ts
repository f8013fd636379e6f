/**
 * INI store: parsed as go-ini (the library sops uses) parses, written as go-ini's pretty format (keys
 * aligned on `=`, a blank line between sections).
 */
import { Branch, Comment, type TreeItem, type TreeValue } from "../tree.js";
import { SopsFormatError } from "./errors.js";

interface Section {
  name: string;
  comment: string;
  keys: { name: string; value: string; comment: string }[];
}

function stripCommentChar(c: string): string {
  if (c.startsWith(";")) return c.replace(/^[; ]+/, "");
  if (c.startsWith("#")) return c.replace(/^[# ]+/, "");
  return c;
}

function parseSections(text: string): Section[] {
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  const sections: Section[] = [{ name: "DEFAULT", comment: "", keys: [] }];
  let current = sections[0] as Section;
  let pending: string[] = [];
  for (let n = 0; n < lines.length; n++) {
    const line = (lines[n] ?? "").trimStart();
    if (line === "") continue;
    if (line.startsWith("#") || line.startsWith(";")) {
      pending.push(line);
      continue;
    }
    if (line.startsWith("[")) {
      const end = line.indexOf("]");
      if (end === -1) throw new SopsFormatError(`unclosed section at line ${n + 1}`);
      const name = line.slice(1, end).trim();
      const existing = sections.find((s) => s.name === name);
      current = existing ?? { name, comment: "", keys: [] };
      if (!existing) sections.push(current);
      current.comment = pending.join("\n");
      pending = [];
      continue;
    }
    let key: string;
    let rest: string;
    if (line.startsWith('"') || line.startsWith("`")) {
      const q = line.startsWith('"""') ? '"""' : (line[0] as string);
      const end = line.indexOf(q, q.length);
      if (end === -1) throw new SopsFormatError(`unclosed quoted key at line ${n + 1}`);
      key = line.slice(q.length, end);
      rest = line.slice(end + q.length).trimStart();
      if (!rest.startsWith("=") && !rest.startsWith(":"))
        throw new SopsFormatError(`no '=' after the key at line ${n + 1}`);
      rest = rest.slice(1);
    } else {
      const pos = line.search(/[=:]/);
      if (pos === -1) throw new SopsFormatError(`a key without a value at line ${n + 1}`);
      key = line.slice(0, pos).trim();
      rest = line.slice(pos + 1);
    }
    rest = rest.trimStart();
    let value: string;
    if (rest.startsWith('"""')) {
      let body = rest.slice(3);
      const parts: string[] = [];
      while (!body.includes('"""')) {
        parts.push(body);
        n++;
        if (n >= lines.length) throw new SopsFormatError('unclosed """ value');
        body = lines[n] ?? "";
      }
      parts.push(body.slice(0, body.indexOf('"""')));
      value = parts.join("\n");
    } else if (rest.startsWith("`") && rest.indexOf("`", 1) > 0) {
      value = rest.slice(1, rest.indexOf("`", 1));
    } else if (rest.startsWith('"') && rest.lastIndexOf('"') > 0) {
      value = rest.slice(1, rest.lastIndexOf('"'));
    } else {
      const cut = rest.search(/[#;]/);
      value = (cut === -1 ? rest : rest.slice(0, cut)).trim();
    }
    const existing = current.keys.find((k) => k.name === key);
    if (existing) {
      existing.value = value;
      existing.comment = pending.join("\n");
    } else current.keys.push({ name: key, value, comment: pending.join("\n") });
    pending = [];
  }
  return sections;
}

/** The sections of an INI file as sops' tree: one branch per section, comments after their key. */
export function parseIniBranch(text: string): Branch {
  const items: TreeItem[] = [];
  for (const s of parseSections(text)) {
    if (s.name === "DEFAULT" && s.keys.length === 0 && s.comment === "") continue;
    const sectionItems: TreeItem[] = [];
    if (s.comment !== "") sectionItems.push({ key: new Comment(stripCommentChar(s.comment)), value: null });
    for (const k of s.keys) {
      sectionItems.push({ key: k.name, value: k.value });
      if (k.comment !== "") sectionItems.push({ key: new Comment(stripCommentChar(k.comment)), value: null });
    }
    items.push({ key: s.name, value: new Branch(sectionItems) });
  }
  return new Branch(items);
}

function commentLines(comment: string): string {
  return (
    comment
      .split("\n")
      .map((l) => (l.startsWith("#") || l.startsWith(";") ? `${l[0]} ${l.slice(1).trim()}` : `; ${l.trim()}`))
      .join("\n") + "\n"
  );
}

function iniValue(v: TreeValue): string {
  if (v instanceof Branch || Array.isArray(v))
    throw new SopsFormatError("INI sections can only hold values, not nested structures");
  if (v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "true" : "false";
  if (v instanceof Comment) return v.value;
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  if ("bytes" in v) return Buffer.from(v.bytes).toString("utf8");
  return "text" in v ? v.text : v.value.toString();
}

export function emitIni(branch: Branch): string {
  const sections: Section[] = [{ name: "DEFAULT", comment: "", keys: [] }];
  for (const it of branch.items) {
    if (it.key instanceof Comment) continue;
    if (!(it.value instanceof Branch)) throw new SopsFormatError("INI section values should always be mappings");
    let s = sections.find((x) => x.name === it.key);
    if (!s) {
      s = { name: it.key, comment: "", keys: [] };
      sections.push(s);
    }
    const entries = it.value.items;
    let first = 0;
    const head = entries[0];
    if (head && head.key instanceof Comment) {
      s.comment = head.key.value;
      first = 1;
    }
    let last: Section["keys"][number] | null = null;
    for (const e of entries.slice(first)) {
      if (e.key instanceof Comment) {
        if (last) last.comment = e.key.value;
      } else {
        last = { name: e.key, value: iniValue(e.value), comment: "" };
        s.keys.push(last);
      }
    }
  }
  let out = "";
  sections.forEach((s, i) => {
    if (s.comment !== "") out += commentLines(s.comment);
    if (i === 0 && s.keys.length === 0) return;
    if (i > 0) out += `[${s.name}]\n`;
    const keyText = (k: string): string =>
      k.includes('"') || k.includes("=:") ? "`" + k + "`" : k.includes("`") ? `"""${k}"""` : k;
    const align = Math.max(0, ...s.keys.map((k) => keyText(k.name).length));
    for (const k of s.keys) {
      if (k.comment !== "") out += commentLines(k.comment);
      let v = k.value;
      if (/[\n`]/.test(v)) v = `"""${v}"""`;
      else if (/[#;]/.test(v)) v = "`" + v + "`";
      else if (v.trim().length !== v.length) v = `"${v}"`;
      const name = keyText(k.name);
      out += `${name}${" ".repeat(align - name.length)} = ${v}\n`;
    }
    if (i < sections.length - 1) out += "\n";
  });
  return out;
}
