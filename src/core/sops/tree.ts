/**
 * The tree model of a SOPS document, as sops keeps it: ordered branches of items, sequences, and typed
 * leaves. Types matter for byte compatibility: an int and a float of the same value encrypt, MAC and print
 * differently in Go, so they are kept apart here.
 */

/** A comment line, without its `#` (YAML) or `;` (INI). Encrypted comments carry `ENC[…]` as their value. */
export class Comment {
  constructor(readonly value: string) {}
}

/** A Go `int`; bigint so 64-bit values survive. */
export class SopsInt {
  constructor(readonly value: bigint) {}
}

/** A Go `float64`. */
export class SopsFloat {
  constructor(readonly value: number) {}
}

/** A Go `time.Time`, kept as its RFC 3339 text (what `MarshalText` writes). */
export class SopsTime {
  constructor(readonly text: string) {}
}

/** A string whose bytes are not valid UTF-8 (binary files): sops encrypts it as `str` all the same. */
export class RawStr {
  constructor(readonly bytes: Uint8Array) {}
}

/** A mapping: ordered items, comments included as items whose key is a {@link Comment}. */
export class Branch {
  constructor(public items: TreeItem[] = []) {}
}

export type Leaf = string | boolean | null | SopsInt | SopsFloat | SopsTime | Uint8Array | Comment | RawStr;
export type TreeValue = Leaf | Branch | TreeValue[];

export interface TreeItem {
  key: string | Comment;
  value: TreeValue;
}
