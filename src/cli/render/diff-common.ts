/** Helpers shared by the diff renderers: value formatting and the wording of sensitive entries. */
import type { JsonValue } from "../../core/json.js";
import type { DiffResult, EnvironmentDiff, ItemChange, KeyChange } from "../../core/diff/model.js";

/** Compact JSON, shortened past `max` characters (a reviewer needs the gist, the JSON output has it all). */
export function formatValue(value: JsonValue | undefined, max = 80): string {
  if (value === undefined) return "";
  const text = JSON.stringify(value);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** What a sensitive entry says instead of values. */
export function describeSensitive(c: KeyChange): string {
  if (c.change === "added") return "sensitive value added";
  if (c.change === "removed") return "sensitive value removed";
  return c.certain === false
    ? "sensitive value may have changed (ciphertext differs; no key to compare plaintext)"
    : "sensitive value changed";
}

export function describeItem(i: ItemChange): string {
  const id = i.id === undefined ? `[${i.index}]` : `[${formatValue(i.id, 40)}]`;
  if (i.change === "added") return `${id} added ${formatValue(i.after)}`;
  if (i.change === "removed") return `${id} removed ${formatValue(i.before)}`;
  return `${id} ${formatValue(i.before)} → ${formatValue(i.after)}`;
}

export function describeEnvironmentStatus(name: string, env: EnvironmentDiff): string {
  switch (env.status) {
    case "added":
      return `${name} (new environment)`;
    case "removed":
      return `${name} (environment removed)`;
    case "renamed":
      return `${name} (renamed from ${env.renamedFrom ?? "?"})`;
    default:
      return name;
  }
}

export function countByKind(env: EnvironmentDiff): { added: number; removed: number; changed: number } {
  const n = { added: 0, removed: 0, changed: 0 };
  for (const c of env.changes) n[c.change]++;
  return n;
}

export function shortSha(ref: string): string {
  return /^[0-9a-f]{40,64}$/.test(ref) ? ref.slice(0, 12) : ref;
}

export function totalChanges(result: DiffResult): number {
  return Object.values(result.environments).reduce((n, e) => n + e.changes.length, 0);
}
