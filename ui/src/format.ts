export function formatAge(seconds: number): string {
  if (seconds < 60) return `${Math.max(0, Math.round(seconds))}s ago`;
  if (seconds < 3600) return `${Math.round(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.round(seconds / 3600)}h ago`;
  return `${Math.round(seconds / 86_400)}d ago`;
}

export function ageOf(iso: string, now = Date.now()): string {
  return formatAge((now - Date.parse(iso)) / 1000);
}

export function formatTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? iso
    : d
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, "Z");
}

export function shortDigest(digest: string | null): string {
  return digest === null ? "—" : digest.replace(/^sha256:/, "").slice(0, 12);
}

export function shortCommit(commit: string | null): string {
  return commit === null ? "—" : commit.slice(0, 10);
}

/** A value of the diff, as compact JSON (strings quoted, so `""` and `null` differ). */
export function formatValue(value: unknown): string {
  return value === undefined ? "" : JSON.stringify(value);
}

/** A moment as the time of day in UTC (`14:03:07Z`), for "last update" and "since". */
export function formatClock(ms: number): string {
  return new Date(ms).toISOString().slice(11, 19) + "Z";
}
