/**
 * Go (RE2) regular expressions as JS ones: sops' rules and path_regex are RE2. A leading inline flag group
 * (`(?i)`, `(?s)`, `(?m)`) becomes a JS flag; anything JS cannot read is a format error, not a crash.
 */
import { SopsFormatError } from "./stores/errors.js";

export function compileGoRegex(source: string, what: string): RegExp {
  let body = source;
  let flags = "u";
  const m = /^\(\?([ims]+)\)/.exec(body);
  if (m) {
    flags += [...new Set(m[1])].join("");
    body = body.slice(m[0].length);
  }
  try {
    return new RegExp(body, flags);
  } catch (cause) {
    throw new SopsFormatError(`${what} ${JSON.stringify(source)} is not a regular expression strata can read`, {
      cause,
    });
  }
}
