/**
 * The type check of an evaluation: the value's JSON type against the type asked for. The value's type is
 * its schema's: a snapshot is signed only after every value passed the schemas, so a key the schema types
 * `string` holds a string in every version, and a boolean evaluation of it is a type mismatch.
 */

/** The evaluation kinds of OpenFeature. */
export type FlagType = "boolean" | "string" | "number" | "object";

export function matchesType(value: unknown, type: FlagType): boolean {
  if (type === "object") return typeof value === "object" && value !== null;
  if (type === "number") return typeof value === "number" && Number.isFinite(value);
  return typeof value === type;
}

/** The JSON type of a value, as an error message says it ("a string", "a map"); never the value. */
export function describeType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return "a map";
  return `a ${typeof value}`;
}
