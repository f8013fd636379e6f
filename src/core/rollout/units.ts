/**
 * The units rollout policies are written in: durations (`90s`, `5m`, `1h30m`), shares (`5%`, `0.5%`, or a
 * bare number of percent) and latencies (`25ms`, `1.5s`). Each parser returns the value or a message that
 * says what is wrong with the text; callers locate the message (policy.ts).
 */

/** Basis points: hundredths of a percent, the resolution of every share a rollout takes. */
export const BASIS_POINTS = 10_000;

const DURATION_UNITS_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
type DurationUnit = keyof typeof DURATION_UNITS_MS;
const UNIT_ORDER: readonly DurationUnit[] = ["d", "h", "m", "s", "ms"];
const DURATION = /^(?:(\d{1,9})(ms|s|m|h|d))+$/;
const DURATION_PART = /(\d{1,9})(ms|s|m|h|d)/g;

export type Parsed<T> = { ok: true; value: T } | { ok: false; message: string };

/** `90s`, `5m`, `1h30m`, `2d` -> milliseconds; each unit at most once, largest first. */
export function parseDuration(text: unknown): Parsed<number> {
  const hint = 'write a duration as a number and a unit (ms, s, m, h, d), e.g. "30s", "5m" or "1h30m"';
  if (typeof text !== "string" || !DURATION.test(text))
    return { ok: false, message: `${describe(text)} is not a duration: ${hint}` };
  let previous = -1;
  let ms = 0;
  for (const [, n, unit] of text.matchAll(DURATION_PART)) {
    // Each unit once, largest first: `5m1h` or `1m1m` is almost certainly a typo, so refuse rather than guess.
    const rank = UNIT_ORDER.indexOf(unit as DurationUnit);
    if (rank <= previous)
      return { ok: false, message: `"${text}" is not a duration: give each unit once, largest first (e.g. "1h30m")` };
    previous = rank;
    ms += Number(n) * DURATION_UNITS_MS[unit as DurationUnit];
  }
  if (!Number.isSafeInteger(ms)) return { ok: false, message: `"${text}" is too long a duration` };
  return { ok: true, value: ms };
}

/** Milliseconds -> the shortest exact text parseDuration reads back (`1h30m`, `250ms`). */
export function formatDuration(ms: number): string {
  if (ms === 0) return "0s";
  const parts: string[] = [];
  let rest = ms;
  for (const [unit, size] of [
    ["d", 86_400_000],
    ["h", 3_600_000],
    ["m", 60_000],
    ["s", 1000],
    ["ms", 1],
  ] as const) {
    const n = Math.floor(rest / size);
    if (n > 0) parts.push(`${n}${unit}`);
    rest -= n * size;
  }
  return parts.join("");
}

const SHARE = /^(\d{1,3}(?:\.\d{1,2})?)%$/;

/**
 * A share of clients: `5%`, `0.25%`, or a bare number of percent (`5`), to two decimals, as basis points.
 * The range checks (above 0, below or at 100) belong to the caller, which knows what the share is for.
 */
export function parseShare(value: unknown): Parsed<number> {
  const hint = 'write a share as a percentage with at most two decimals, e.g. "5%" or "0.25%"';
  let text: string;
  if (typeof value === "number" && Number.isFinite(value)) text = `${value}%`;
  else if (typeof value === "string") text = value.trim();
  else return { ok: false, message: `${describe(value)} is not a share of clients: ${hint}` };
  const m = SHARE.exec(text);
  if (!m) return { ok: false, message: `${describe(value)} is not a share of clients: ${hint}` };
  // Parse the decimal text exactly (no binary rounding): "0.29%" is 29 basis points, not 28.999….
  const [whole, frac = ""] = m[1]!.split(".");
  const bp = Number(whole) * 100 + Number(frac.padEnd(2, "0"));
  if (bp > BASIS_POINTS) return { ok: false, message: `${describe(value)} is more than 100%` };
  return { ok: true, value: bp };
}

/** Basis points -> `5%`, `0.25%`. */
export function formatShare(bp: number): string {
  const whole = Math.floor(bp / 100);
  const frac = bp % 100;
  return frac === 0 ? `${whole}%` : `${whole}.${String(frac).padStart(2, "0").replace(/0$/, "")}%`;
}

const LATENCY = /^(\d{1,9}(?:\.\d{1,3})?)(ms|s)$/;

/** `25ms`, `1.5s` -> milliseconds. */
export function parseLatency(value: unknown): Parsed<number> {
  const m = typeof value === "string" ? LATENCY.exec(value.trim()) : null;
  if (!m)
    return {
      ok: false,
      message: `${describe(value)} is not a latency: write a number and a unit (ms or s), e.g. "25ms" or "1.5s"`,
    };
  return { ok: true, value: Number(m[1]) * (m[2] === "s" ? 1000 : 1) };
}

/** A value as a message shows it: text quoted, other YAML values as they were written. */
export function describe(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 57)}...` : value);
  if (value === null || value === undefined) return "an empty value";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "a map";
  return String(value);
}
