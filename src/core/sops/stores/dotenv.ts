/** dotenv store, as sops reads it: split at the first `=`, no trimming, no quotes, `\n` escapes newlines. */
import { Branch, Comment, RawStr, SopsFloat, SopsInt, SopsTime, type TreeValue } from "../tree.js";
import { formatFloatG } from "../go-format.js";
import { SopsFormatError } from "./errors.js";

export function parseDotenvBranch(text: string): Branch {
  const b = new Branch();
  for (const [n, line] of text.split("\n").entries()) {
    if (line.length === 0) continue;
    if (line.startsWith("#")) {
      b.items.push({ key: new Comment(line.slice(1)), value: null });
      continue;
    }
    const pos = line.indexOf("=");
    // The line itself is not quoted: it may be a secret pasted without its key.
    if (pos === -1) throw new SopsFormatError(`invalid dotenv input at line ${n + 1}: no '='`);
    b.items.push({ key: line.slice(0, pos), value: line.slice(pos + 1).replaceAll("\\n", "\n") });
  }
  return b;
}

function valueText(v: TreeValue): string {
  if (v instanceof Branch || Array.isArray(v)) throw new SopsFormatError("cannot use complex value in dotenv file");
  if (v === null) return "";
  if (typeof v === "string") return v;
  if (typeof v === "boolean") return v ? "true" : "false";
  if (v instanceof SopsInt) return v.value.toString();
  if (v instanceof SopsFloat) return formatFloatG(v.value);
  if (v instanceof SopsTime) return v.text;
  if (v instanceof Uint8Array) return Buffer.from(v).toString("utf8");
  if (v instanceof RawStr) return Buffer.from(v.bytes).toString("utf8");
  return v.value;
}

export function emitDotenv(branch: Branch): string {
  let out = "";
  for (const it of branch.items) {
    if (it.key instanceof Comment) out += `#${it.key.value}\n`;
    else out += `${it.key}=${valueText(it.value).replaceAll("\n", "\\n")}\n`;
  }
  return out;
}
