/**
 * YAML for the tools that read it (docs/deploy.md): kubectl and helm read YAML 1.1 (go-yaml), PyYAML and
 * Ansible read YAML 1.1, strata and most new tools YAML 1.2. A plain scalar means different things to them
 * (`yes`, `on`, `y`, `1_000`, `1:30`, `0755`, `2026-01-02` are strings to 1.2 and booleans, numbers or
 * dates to 1.1), and 1.1 reads NEL, LS and PS as line breaks. So every string either reader could take for
 * another type is quoted, every character a 1.1 reader treats specially is escaped, and every number is
 * written in a form both read as that number.
 */
import { Document, type ScalarTag } from "yaml";
import type { JsonValue } from "../json.js";

/**
 * Words that some reader resolves to a boolean or null, in any case (YAML 1.1's y/n/yes/no/on/off, 1.2's
 * true/false/null, PyYAML's `=` value key and every reader's `<<` merge key).
 */
const RESERVED_WORD = /^(?:y|n|yes|no|true|false|on|off|null|~|=|<<)$/i;
/**
 * Anything that starts like a number: integers in every base, with `_` (1.1) or without, sexagesimal
 * `1:30`, floats, dates and timestamps, and the infinities and NaNs of both versions and of Go's
 * ParseFloat (`+inf`, `-Infinity`). Quoting a string such as `3 replicas` too is harmless.
 */
const NUMBER_LIKE = /^[-+]?(?:[0-9]|\.[0-9_]|\.?(?:inf|infinity|nan)$)/i;
/**
 * YAML 1.1's float as its spec writes it, every part optional, so that `.`, `-.`, `..` and `E0` are floats
 * to some 1.1 readers (the `yaml` package's 1.1 schema among them).
 */
const FLOAT_11 = /^[-+]?(?:[0-9][0-9_]*)?(?:\.[0-9._]*)?(?:[eE][-+]?[0-9]+)?$/;
/**
 * Characters that may stand unescaped in the output for both readers: tab, LF and the printable ranges
 * PyYAML accepts, minus NEL, LS and PS (line breaks to 1.1) and the byte-order mark. CR is escaped too: a
 * raw one is a line break to both.
 */
const UNSAFE_CHARACTER = /[^\t\n\x20-\x7e\xa0-\u2027\u202a-\ud7ff\ue000-\ufefe\uff00-\ufffd\u{10000}-\u{10ffff}]/u;

/** Whether a YAML 1.1 or 1.2 reader would read `text`, written as a plain scalar, as anything but this string. */
export function readsAsAnotherType(text: string): boolean {
  return text === "" || RESERVED_WORD.test(text) || NUMBER_LIKE.test(text) || FLOAT_11.test(text);
}

/** The string as one double-quoted scalar that YAML 1.1 and 1.2 readers read back unchanged. */
export function quoteYamlString(text: string): string {
  let out = '"';
  for (const ch of text) {
    const c = ch.codePointAt(0)!;
    if (ch === '"' || ch === "\\") out += `\\${ch}`;
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (UNSAFE_CHARACTER.test(ch))
      out += c <= 0xff ? `\\x${hex(c, 2)}` : c <= 0xffff ? `\\u${hex(c, 4)}` : `\\U${hex(c, 8)}`;
    else out += ch;
  }
  return `${out}"`;
}

function hex(n: number, width: number): string {
  return n.toString(16).toUpperCase().padStart(width, "0");
}

/**
 * A number as both versions read it: integers as digits; other numbers with a fraction and a signed
 * exponent (PyYAML reads `1e-7` as a string, `1.0e-7` as a float).
 */
export function yamlNumber(n: number): string {
  if (!Number.isFinite(n)) return n > 0 ? ".inf" : n < 0 ? "-.inf" : ".nan";
  const text = String(n);
  if (/^-?[0-9]+$/.test(text)) return text;
  const m = /^(-?[0-9]+)(\.[0-9]+)?(?:e([-+]?)([0-9]+))?$/.exec(text);
  if (!m) return text;
  const [, whole, fraction = ".0", sign = "", exponent] = m;
  return `${whole}${fraction}${exponent === undefined ? "" : `e${sign === "" ? "+" : sign}${exponent}`}`;
}

const STR = "tag:yaml.org,2002:str";
const NUMBER_TAGS = new Set(["tag:yaml.org,2002:int", "tag:yaml.org,2002:float"]);

function safeTags(tags: ScalarTag[]): ScalarTag[] {
  return tags.map((tag): ScalarTag => {
    if (tag.tag === STR && tag.stringify) {
      const plain = tag.stringify;
      return {
        ...tag,
        stringify: (item, ctx, onComment, onChompKeep) => {
          const text = String(item.value);
          // PyYAML refuses a tab in a plain scalar, and reads whitespace at the edge of a block scalar's
          // lines differently from 1.2 readers: those are quoted as well.
          return readsAsAnotherType(text) ||
            UNSAFE_CHARACTER.test(text) ||
            text.includes("\t") ||
            (text.includes("\n") && /(?:^|\n) |  *(?:\n|$)/.test(text))
            ? quoteYamlString(text)
            : plain(item, ctx, onComment, onChompKeep);
        },
      };
    }
    if (NUMBER_TAGS.has(tag.tag) && tag.stringify) {
      const other = tag.stringify;
      return {
        ...tag,
        stringify: (item, ctx, onComment, onChompKeep) =>
          typeof item.value === "number" ? yamlNumber(item.value) : other(item, ctx, onComment, onChompKeep),
      };
    }
    return tag;
  });
}

/** A JSON value as YAML that YAML 1.1 and 1.2 readers read as the same value. */
export function renderYaml(value: JsonValue | undefined): string {
  const doc = new Document(value, {
    customTags: (tags) => safeTags(tags as ScalarTag[]),
    // Aliases would make a shared subtree look like one node to some readers and two to others.
    aliasDuplicateObjects: false,
  });
  return doc.toString({ lineWidth: 0 });
}
