/**
 * JSON Pointer (RFC 6901), the one decoder: ajv's `instancePath`s, schema `$ref` fragments and the paths
 * strata writes into messages all go through here.
 */
import { isJsonObject, type JsonValue } from "./json.js";

/** A pointer that is not one: no leading `/`, a `~` not followed by `0` or `1`, bad percent-encoding. */
export class JsonPointerError extends Error {
  constructor(
    readonly pointer: string,
    readonly reason: string,
  ) {
    super(`${JSON.stringify(pointer)} is not a JSON Pointer: ${reason}`);
    this.name = "JsonPointerError";
  }
}

/** `""` -> `[]`, `"/a~1b/0"` -> `["a/b", "0"]`. Array indices stay strings: only the document knows. */
export function parseJsonPointer(pointer: string): string[] {
  if (pointer === "") return [];
  if (!pointer.startsWith("/")) throw new JsonPointerError(pointer, 'it must be empty or start with "/"');
  return pointer
    .slice(1)
    .split("/")
    .map((segment) => {
      if (/~(?![01])/.test(segment))
        throw new JsonPointerError(pointer, '"~" must be followed by 0 or 1 (~0 is "~", ~1 is "/")');
      // ~1 first would turn "~01" into "/" instead of "~1".
      return segment.replace(/~1/g, "/").replace(/~0/g, "~");
    });
}

/**
 * The fragment of a URI reference (`$ref: "#/$defs/a%20b"`, without the `#`) as a pointer: percent-decoded
 * first, then parsed (RFC 6901 section 6).
 */
export function parseFragmentPointer(fragment: string): string[] {
  let decoded: string;
  try {
    decoded = decodeURIComponent(fragment);
  } catch {
    throw new JsonPointerError(fragment, "its percent-encoding is not UTF-8 (e.g. %E0 alone)");
  }
  return parseJsonPointer(decoded);
}

export function formatJsonPointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, "~0").replace(/\//g, "~1")}`).join("");
}

/** The value at `segments`, or undefined; own properties only, array indices in canonical form. */
export function resolveJsonPointer(root: JsonValue, segments: readonly string[]): JsonValue | undefined {
  let current: JsonValue | undefined = root;
  for (const segment of segments) {
    if (isJsonObject(current) && Object.hasOwn(current, segment)) current = current[segment];
    else if (Array.isArray(current) && /^(0|[1-9]\d*)$/.test(segment)) current = current[Number(segment)];
    else return undefined;
  }
  return current;
}
