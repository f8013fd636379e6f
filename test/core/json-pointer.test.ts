// The one JSON Pointer decoder (RFC 6901): parse, format, the URI-fragment form of `$ref`, resolution.
import { describe, expect, it } from "vitest";
import {
  formatJsonPointer,
  JsonPointerError,
  parseFragmentPointer,
  parseJsonPointer,
  resolveJsonPointer,
} from "../../src/core/json-pointer.js";

// RFC 6901 section 5's document and its examples.
const DOC = {
  foo: ["bar", "baz"],
  "": 0,
  "a/b": 1,
  "c%d": 2,
  "e^f": 3,
  "g|h": 4,
  "i\\j": 5,
  'k"l': 6,
  " ": 7,
  "m~n": 8,
};

describe("parseJsonPointer", () => {
  it.each<[string, string[]]>([
    ["", []],
    ["/foo", ["foo"]],
    ["/foo/0", ["foo", "0"]],
    ["/", [""]],
    ["/a~1b", ["a/b"]],
    ["/m~0n", ["m~n"]],
    ["/~01", ["~1"]],
    ["/~10", ["/0"]],
    ["/c%d", ["c%d"]],
  ])("%j -> %j", (pointer, segments) => {
    expect(parseJsonPointer(pointer)).toEqual(segments);
    expect(formatJsonPointer(segments)).toBe(pointer);
  });

  it.each([
    ["foo", "start with"],
    ["/a~2", "~0 is"],
    ["/a~", "~0 is"],
  ])("%j is refused: %s", (pointer, reason) => {
    expect(() => parseJsonPointer(pointer)).toThrow(JsonPointerError);
    expect(() => parseJsonPointer(pointer)).toThrow(reason);
  });
});

describe("parseFragmentPointer", () => {
  it.each<[string, string[]]>([
    ["", []],
    ["/foo/0", ["foo", "0"]],
    ["/c%25d", ["c%d"]],
    ["/%20", [" "]],
    ["/a~1b", ["a/b"]],
    ["/%7E1", ["/"]],
  ])("%j -> %j", (fragment, segments) => {
    expect(parseFragmentPointer(fragment)).toEqual(segments);
  });

  it.each(["/%E0", "/%ZZ", "/%", "/a~3"])("%j is a JsonPointerError, never a URIError", (fragment) => {
    expect(() => parseFragmentPointer(fragment)).toThrow(JsonPointerError);
  });
});

describe("resolveJsonPointer", () => {
  it.each<[string, unknown]>([
    ["", DOC],
    ["/foo", ["bar", "baz"]],
    ["/foo/0", "bar"],
    ["/", 0],
    ["/a~1b", 1],
    ["/c%d", 2],
    ["/ ", 7],
    ["/m~0n", 8],
    ["/foo/2", undefined],
    ["/foo/01", undefined],
    ["/nope", undefined],
    ["/constructor", undefined],
  ])("%j", (pointer, value) => {
    expect(resolveJsonPointer(DOC, parseJsonPointer(pointer))).toEqual(value);
  });
});
