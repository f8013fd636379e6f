import type { JsonPrimitive } from "../json.js";

/** A position in a file, 1-based. */
export interface Pos {
  file: string;
  line: number;
  column: number;
}

/**
 * A YAML value with the position of every node: what layers are made of. Maps are `Map`s, so no user
 * key ever becomes an object property before it has been checked.
 */
export type LNode = LMap | LSeq | LScalar | LUnset;

export interface LMap {
  kind: "map";
  pos: Pos;
  entries: Map<string, LEntry>;
}
export interface LEntry {
  keyPos: Pos;
  value: LNode;
}
export interface LSeq {
  kind: "seq";
  pos: Pos;
  items: LNode[];
}
export interface LScalar {
  kind: "scalar";
  pos: Pos;
  value: JsonPrimitive;
}
/** `!unset`: removes the inherited key and its subtree (docs/reference.md, resolution). */
export interface LUnset {
  kind: "unset";
  pos: Pos;
}

export function toPlain(node: LNode): unknown {
  switch (node.kind) {
    case "scalar":
      return node.value;
    case "unset":
      return undefined;
    case "seq":
      return node.items.map(toPlain);
    case "map": {
      const out: Record<string, unknown> = {};
      for (const [k, e] of node.entries) {
        const v = toPlain(e.value);
        // defineProperty: even a "__proto__" key stays an own data property, never the prototype.
        if (v !== undefined)
          Object.defineProperty(out, k, { value: v, enumerable: true, writable: true, configurable: true });
      }
      return out;
    }
  }
}
