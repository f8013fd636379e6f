/**
 * The one glob matcher of dotted names: approval rules (`environments`, `keys`), token scopes
 * (`read:<env-glob>`), `strata log KEY`, `diff --env`, and the SDK's `watch` all use it (README, "Globs").
 *
 * - A pattern is split at dots into segments, as the name is.
 * - `**` as a whole segment matches zero or more whole segments: `database.**` matches `database` and
 *   everything under it, `a.**.z` matches `a.z` and `a.b.c.z`, `**.max` matches `max`.
 * - `*` matches any run of characters within one segment (`production*`, `db.p*l.max`, `*.port`); it never
 *   crosses a dot. A `**` inside a longer segment (`a**b`) is two such stars.
 * - Everything else matches itself (no character classes, no escapes: names cannot contain `*`).
 *
 * Matching is by segments, not a regular expression: no backtracking blow-up on hostile patterns or
 * long names (quadratic at worst in the segment counts, linear-times-stars within a segment).
 */

/** A compiled pattern: a function of the name, cached per pattern text. */
export type GlobMatcher = (name: string) => boolean;

const GLOBSTAR = Symbol("**");
type Segment = string | typeof GLOBSTAR;

const cache = new Map<string, GlobMatcher>();
/** Patterns come from configuration and tokens: a bound keeps a hostile stream of them from growing memory. */
const CACHE_LIMIT = 1024;

/** Compiles a pattern (memoized). */
export function createGlobMatcher(pattern: string): GlobMatcher {
  const cached = cache.get(pattern);
  if (cached !== undefined) return cached;
  const matcher = compile(pattern);
  if (cache.size >= CACHE_LIMIT) cache.delete(cache.keys().next().value!);
  cache.set(pattern, matcher);
  return matcher;
}

export function matchGlob(pattern: string, name: string): boolean {
  return createGlobMatcher(pattern)(name);
}

export function matchAnyGlob(patterns: readonly string[], name: string): boolean {
  return patterns.some((p) => matchGlob(p, name));
}

/** True when the pattern has a wildcard (a plain name matches only itself). */
function isGlob(pattern: string): boolean {
  return pattern.includes("*");
}

function compile(pattern: string): GlobMatcher {
  if (!isGlob(pattern)) return (name) => name === pattern;
  const segments: Segment[] = [];
  for (const s of pattern.split(".")) {
    const segment: Segment = s === "**" ? GLOBSTAR : s;
    // `**.**` is `**`.
    if (segment === GLOBSTAR && segments.at(-1) === GLOBSTAR) continue;
    segments.push(segment);
  }
  return (name) => matchSegments(segments, name.split("."));
}

function matchSegments(pattern: readonly Segment[], name: readonly string[]): boolean {
  // reachable[j]: the pattern's first i segments can match the name's first j segments.
  let reachable: boolean[] = new Array<boolean>(name.length + 1).fill(false);
  reachable[0] = true;
  for (const segment of pattern) {
    const next = new Array<boolean>(name.length + 1).fill(false);
    if (segment === GLOBSTAR) {
      // Zero or more whole segments: every position at or after a reachable one.
      let any = false;
      for (let j = 0; j <= name.length; j++) next[j] = any ||= reachable[j]!;
    } else {
      for (let j = 0; j < name.length; j++) if (reachable[j] && matchSegment(segment, name[j]!)) next[j + 1] = true;
    }
    reachable = next;
  }
  return reachable[name.length]!;
}

/** `*` within one segment: the classic wildcard walk, backtracking only to the last star. */
function matchSegment(pattern: string, text: string): boolean {
  let p = 0;
  let t = 0;
  let star = -1;
  let resume = 0;
  while (t < text.length) {
    if (p < pattern.length && pattern[p] !== "*" && pattern[p] === text[t]) {
      p++;
      t++;
    } else if (p < pattern.length && pattern[p] === "*") {
      star = p++;
      resume = t;
    } else if (star >= 0) {
      p = star + 1;
      t = ++resume;
    } else return false;
  }
  while (p < pattern.length && pattern[p] === "*") p++;
  return p === pattern.length;
}
