// Text that came from outside the dashboard (values, client names, approvers, reasons): shown so that what
// is on the screen is what is in the data. Bidirectional controls (an RTL override can make "evil" display
// as "live"), zero-width and other invisible characters are shown as visible escapes (`\u202E`) with their
// name as a tooltip; the rest is isolated (`<bdi>`) so a right-to-left name cannot reorder its neighbours.

/** Characters that change how text displays without being seen themselves, with a name for the tooltip. */
const INVISIBLE: Record<string, string> = {
  "\u00ad": "soft hyphen",
  "\u061c": "Arabic letter mark",
  "\u115f": "Hangul choseong filler",
  "\u1160": "Hangul jungseong filler",
  "\u17b4": "Khmer vowel inherent aq",
  "\u17b5": "Khmer vowel inherent aa",
  "\u180e": "Mongolian vowel separator",
  "\u200b": "zero-width space",
  "\u200c": "zero-width non-joiner",
  "\u200d": "zero-width joiner",
  "\u200e": "left-to-right mark",
  "\u200f": "right-to-left mark",
  "\u202a": "left-to-right embedding",
  "\u202b": "right-to-left embedding",
  "\u202c": "pop directional formatting",
  "\u202d": "left-to-right override",
  "\u202e": "right-to-left override",
  "\u2060": "word joiner",
  "\u2061": "function application",
  "\u2062": "invisible times",
  "\u2063": "invisible separator",
  "\u2064": "invisible plus",
  "\u2066": "left-to-right isolate",
  "\u2067": "right-to-left isolate",
  "\u2068": "first strong isolate",
  "\u2069": "pop directional isolate",
  "\u206a": "inhibit symmetric swapping",
  "\u206b": "activate symmetric swapping",
  "\u206c": "inhibit Arabic form shaping",
  "\u206d": "activate Arabic form shaping",
  "\u206e": "national digit shapes",
  "\u206f": "nominal digit shapes",
  "\u3164": "Hangul filler",
  "\ufeff": "zero-width no-break space",
  "\ufff9": "interlinear annotation anchor",
  "\ufffa": "interlinear annotation separator",
  "\ufffb": "interlinear annotation terminator",
};

// Also every control character (C0, DEL, C1) and the tag characters (U+E0000–U+E007F, invisible too). An
// alternation of escapes, not a character class: a class of joiners and marks would combine its members.
const SPLIT = new RegExp(
  `(${Object.keys(INVISIBLE)
    .map((ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`)
    .join("|")}|[\\u0000-\\u001f\\u007f-\\u009f]|[\\u{E0000}-\\u{E007F}])`,
  "u",
);

/** `\uXXXX` (or `\u{XXXXX}`) for one code point. */
function escapeCodePoint(ch: string): string {
  const cp = ch.codePointAt(0)!;
  return cp > 0xffff ? `\\u{${cp.toString(16).toUpperCase()}}` : `\\u${cp.toString(16).toUpperCase().padStart(4, "0")}`;
}

/** Outside text, safe to show: invisible characters as marked escapes, the whole isolated. */
export function Safe({ text }: { text: string }) {
  const parts = text.split(SPLIT);
  return (
    <bdi>
      {parts.map((part, i) =>
        i % 2 === 0 ? (
          part
        ) : (
          <span key={i} class="escaped" title={INVISIBLE[part] ?? "control character"}>
            {escapeCodePoint(part)}
          </span>
        ),
      )}
    </bdi>
  );
}
