import { StrataError } from "../../core/findings.js";
import type { SnapshotStore, StoreFactory, StoreKind } from "./store.js";

export type * from "./store.js";

/** One store engine: how `--store` names it, and how it opens (its module, and etcd its client, only when used). */
interface StoreEngine {
  /** The prefix of a `--store` spec; the rest is the engine's location. */
  scheme: string;
  /** The spec's form, for help and errors. */
  usage: string;
  open: StoreFactory;
}

/** The store engines. `satisfies` makes a missing engine a compile error; the spec parser reads this table. */
export const stores = {
  file: {
    scheme: "file:",
    usage: "file:DIR",
    open: async (location) => (await import("./file.js")).openFileStore(location),
  },
  etcd: {
    scheme: "etcd://",
    usage: "etcd://HOST:PORT[,HOST:PORT]/PREFIX",
    open: async (location) => (await import("./etcd.js")).openEtcdStore(location),
  },
} satisfies Record<StoreKind, StoreEngine>;

const engines = Object.entries(stores) as [StoreKind, StoreEngine][];

/** A `--store` spec (`file:DIR`, `etcd://HOST:PORT[,HOST:PORT]/PREFIX`): the engine and its location. */
export function parseStoreSpec(spec: string): { kind: StoreKind; location: string } {
  for (const [kind, engine] of engines) {
    if (spec.startsWith(engine.scheme) && spec.length > engine.scheme.length)
      return { kind, location: spec.slice(engine.scheme.length) };
  }
  throw new StrataError("invalid-argument", `unknown store ${JSON.stringify(spec)}`, {
    hint: `use ${engines.map(([, e]) => `--store ${e.usage}`).join(" or ")}`,
  });
}

export async function openStore(spec: string): Promise<SnapshotStore> {
  const { kind, location } = parseStoreSpec(spec);
  return stores[kind].open(location);
}
