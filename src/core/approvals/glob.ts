/**
 * docs/reference.md, strata.yaml globs: `*` matches one key segment or part of a name, `**` any number of segments (zero
 * included, so `database.**` is the whole namespace). Environment names have no dots, so the same
 * matcher serves both.
 */
const cache = new Map<string, RegExp>();

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Compiles a glob to an anchored regular expression over dotted paths. */
export function compileGlob(pattern: string): RegExp {
  const cached = cache.get(pattern);
  if (cached) return cached;
  const segments = pattern.split(".");
  let source = "";
  segments.forEach((segment, i) => {
    const last = i === segments.length - 1;
    if (segment === "**") {
      // Zero or more whole segments, with the separators they need on either side.
      if (segments.length === 1) source += ".*";
      else if (i === 0) source += "(?:[^.]+\\.)*";
      else if (last) source += "(?:\\.[^.]+)*";
      else source += "(?:\\.[^.]+)*\\.";
      return;
    }
    const previousWasGlobstar = i > 0 && segments[i - 1] === "**";
    if (i > 0 && !previousWasGlobstar) source += "\\.";
    source += segment.split("*").map(escapeRegExp).join("[^.]*");
  });
  // A leading or middle `**` already consumed the separator before the next segment.
  const re = new RegExp(`^${source}$`);
  cache.set(pattern, re);
  return re;
}

export function matchGlob(pattern: string, name: string): boolean {
  return compileGlob(pattern).test(name);
}

export function matchAnyGlob(patterns: readonly string[], name: string): boolean {
  return patterns.some((p) => matchGlob(p, name));
}
