import { StrataError } from "../../core/findings.js";
import type { SnapshotStore, StoreFactory, StoreKind } from "./store.js";

export type * from "./store.js";

/**
 * The store engines. Each loads its module (and etcd its client) only when used. `satisfies` makes a
 * missing engine a compile error.
 */
export const stores = {
  file: async (location) => (await import("./file.js")).openFileStore(location),
  etcd: async (location) => (await import("./etcd.js")).openEtcdStore(location),
} satisfies Record<StoreKind, StoreFactory>;

/** `file:DIR` or `etcd://HOST:PORT[,HOST:PORT]/PREFIX`. */
export function parseStoreSpec(spec: string): { kind: StoreKind; location: string } {
  if (spec.startsWith("file:")) {
    const location = spec.slice("file:".length);
    if (location !== "") return { kind: "file", location };
  }
  if (spec.startsWith("etcd://")) return { kind: "etcd", location: spec.slice("etcd://".length) };
  throw new StrataError("invalid-argument", `unknown store ${JSON.stringify(spec)}`, {
    hint: "use --store file:DIR or --store etcd://HOST:PORT[,HOST:PORT]/PREFIX",
  });
}

export async function openStore(spec: string): Promise<SnapshotStore> {
  const { kind, location } = parseStoreSpec(spec);
  return stores[kind](location);
}
