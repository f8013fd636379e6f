/** Names and key segments (docs/reference.md, the repository). Checked before any value reaches an object. */
const KEY_SEGMENT = /^[A-Za-z_][A-Za-z0-9_-]*$/;
/**
 * Environment and namespace names: the one home of the rule. The strata.yaml schema, the repository
 * layout, the snapshot format, the stores and the endpoint's routes all take it from here.
 */
export const NAME = /^[a-z0-9][a-z0-9-]*$/;
/**
 * Environment and namespace names become file names (in the repository and the endpoint's store) and URL
 * segments: 64 characters is far more than a real name needs and far below any file-system limit.
 */
export const MAX_NAME_LENGTH = 64;
/** The whole rule, length included, as one expression (for route parameters and store listings). */
export const VALID_NAME = new RegExp(`^[a-z0-9][a-z0-9-]{0,${MAX_NAME_LENGTH - 1}}$`);
/** The rule in words, for hints and messages: `environment names match …`. */
export const NAME_RULE = `names match ${NAME.source}, at most ${MAX_NAME_LENGTH} characters`;

/** Segments that would reach an object prototype if they ever became property names. */
const PROTOTYPE_KEYS = new Set([
  "__proto__",
  "constructor",
  "prototype",
  "__defineGetter__",
  "__defineSetter__",
  "__lookupGetter__",
  "__lookupSetter__",
  "hasOwnProperty",
  "isPrototypeOf",
  "propertyIsEnumerable",
  "toLocaleString",
  "toString",
  "valueOf",
]);

export function isValidKeySegment(key: string): boolean {
  return KEY_SEGMENT.test(key) && !PROTOTYPE_KEYS.has(key);
}

export function isValidName(name: string): boolean {
  return VALID_NAME.test(name);
}

export function describeKeyProblem(key: string): string {
  if (PROTOTYPE_KEYS.has(key)) return `"${key}" is reserved (it names an object prototype member)`;
  if (key === "") return "an empty key is not allowed";
  return `"${printable(key)}" must match ${KEY_SEGMENT.source}`;
}

/**
 * A key path as users write it and strata prints it: dotted segments, array items in brackets
 * (`http.routes[2].path` -> `["http", "routes", 2, "path"]`). The first segment is the namespace.
 */
export function splitKey(key: string): (string | number)[] {
  return (key.match(/[^.[\]]+|\[\d+\]/g) ?? []).map((p) => (p.startsWith("[") ? Number(p.slice(1, -1)) : p));
}

/** The inverse of {@link splitKey}. */
export function joinKey(path: readonly (string | number)[]): string {
  let s = "";
  for (const seg of path) s += typeof seg === "number" ? `[${seg}]` : s === "" ? seg : `.${seg}`;
  return s;
}

/** The namespace a key belongs to: `database.pool.max` -> `database`. */
export function namespaceOf(key: string): string {
  return String(splitKey(key)[0] ?? "");
}

/** Keeps messages printable when a key is binary junk. */
export function printable(s: string, max = 60): string {
  const clean = JSON.stringify(s).slice(1, -1);
  return clean.length > max ? `${clean.slice(0, max)}…` : clean;
}

/** `-` in place of a file name: standard input where a file is read, standard output where one is written. */
export const STANDARD_STREAM = "-";
