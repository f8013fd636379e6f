/** The namespace a leaf path belongs to: `database.pool.max` -> `database`. */
export function namespaceOf(key: string): string {
  const dot = key.indexOf(".");
  const bracket = key.indexOf("[");
  const end = [dot, bracket].filter((i) => i >= 0).reduce((a, b) => Math.min(a, b), key.length);
  return key.slice(0, end);
}

/** `A.x.y` -> `B.x.y` when namespace A is called B at the other side. */
export function renameKeyNamespace(key: string, renames: ReadonlyMap<string, string>): string {
  const ns = namespaceOf(key);
  const to = renames.get(ns);
  return to === undefined ? key : to + key.slice(ns.length);
}
