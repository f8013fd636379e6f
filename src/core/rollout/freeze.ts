/**
 * The freeze calendar of a rollout policy: windows in which a push is refused unless it takes the emergency
 * path, and in which a rollout in progress does not advance (a rollback always may). Two kinds of window:
 * a one-off interval between two instants (`from`/`until` as RFC 3339 times with an offset), and a weekly
 * window in wall-clock time of an IANA time zone (`days`, `from`/`until` as HH:MM, `timezone`), so that
 * "no changes on Friday afternoons in Berlin" stays right across daylight-saving changes.
 *
 * Pure: the clock is the caller's `now`; time zones come from the ICU data of the JavaScript engine (Intl).
 */

export const WEEKDAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"] as const;
export type Weekday = (typeof WEEKDAYS)[number];

const MINUTES_PER_DAY = 1440;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

/** A one-off freeze: [start, end) in milliseconds since the epoch. */
export interface OnceFreeze {
  kind: "once";
  start: number;
  end: number;
  reason: string | null;
}

/**
 * A weekly freeze in wall-clock time: on each of `days`, from minute `from` of the day until minute
 * `until` (1440 is midnight at the end of the day); an `until` at or before `from` ends on the next day.
 */
export interface WeeklyFreeze {
  kind: "weekly";
  days: Weekday[];
  from: number;
  until: number;
  timeZone: string;
  reason: string | null;
}

export type FreezeWindow = OnceFreeze | WeeklyFreeze;

/** The freeze that applies at an instant: which window (its index in the policy) and when it ends. */
export interface ActiveFreeze {
  index: number;
  window: FreezeWindow;
  reason: string | null;
  /** When this window ends (milliseconds since the epoch); a later window may continue the freeze. */
  endsAt: number;
}

/** Anything with a freeze calendar (a rollout policy). */
export interface HasFreeze {
  freeze: readonly FreezeWindow[];
}

/** Whether pushes are frozen at `now` (a Date or milliseconds since the epoch). */
export function isFrozen(policy: HasFreeze, now: Date | number): boolean {
  return activeFreeze(policy, now) !== null;
}

/** The first window of the calendar that contains `now`, or null. */
export function activeFreeze(policy: HasFreeze, now: Date | number): ActiveFreeze | null {
  const t = typeof now === "number" ? now : now.getTime();
  for (const [index, window] of policy.freeze.entries()) {
    const endsAt = window.kind === "once" ? onceEnd(window, t) : weeklyEnd(window, t);
    if (endsAt !== null) return { index, window, reason: window.reason, endsAt };
  }
  return null;
}

function onceEnd(w: OnceFreeze, t: number): number | null {
  return t >= w.start && t < w.end ? w.end : null;
}

/** The weekly window's intervals as [start, end) minutes of the week (Monday 00:00 = 0), end may pass a week. */
function weeklyIntervals(w: WeeklyFreeze): [number, number][] {
  const length = w.until > w.from ? w.until - w.from : MINUTES_PER_DAY - w.from + w.until;
  return w.days.map((d) => {
    const start = WEEKDAYS.indexOf(d) * MINUTES_PER_DAY + w.from;
    return [start, start + length];
  });
}

function weeklyEnd(w: WeeklyFreeze, t: number): number | null {
  const { minuteOfWeek, secondsIntoMinute } = wallClock(t, w.timeZone);
  for (const [start, end] of weeklyIntervals(w)) {
    // The interval may run past Sunday midnight into the next week: compare on both sides of the wrap.
    for (const m of [minuteOfWeek, minuteOfWeek + MINUTES_PER_WEEK]) {
      if (m >= start && m < end) return t + ((end - m) * 60 - secondsIntoMinute) * 1000 - (t % 1000);
    }
  }
  return null;
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat("en-US", {
      timeZone,
      weekday: "short",
      hour: "2-digit",
      minute: "2-digit",
      second: "2-digit",
      hourCycle: "h23",
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** Whether the engine knows the IANA time zone (`Europe/Berlin`, `UTC`). */
export function isKnownTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

const SHORT_DAYS: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

function wallClock(t: number, timeZone: string): { minuteOfWeek: number; secondsIntoMinute: number } {
  const parts = formatter(timeZone).formatToParts(new Date(t));
  const get = (type: Intl.DateTimeFormatPartTypes): string => parts.find((p) => p.type === type)?.value ?? "0";
  const day = SHORT_DAYS[get("weekday")] ?? 0;
  return {
    minuteOfWeek: day * MINUTES_PER_DAY + Number(get("hour")) * 60 + Number(get("minute")),
    secondsIntoMinute: Number(get("second")),
  };
}

/**
 * Pairs of windows that overlap (indices into `windows`): one-off windows with each other, and weekly
 * windows of the same time zone with each other. (A one-off freeze over a weekend that also has a weekly
 * freeze is normal, and weekly windows in different zones overlap on some dates only, so neither is a mistake.)
 */
export function overlappingWindows(windows: readonly FreezeWindow[]): [number, number][] {
  const pairs: [number, number][] = [];
  for (let i = 0; i < windows.length; i++) {
    for (let j = i + 1; j < windows.length; j++) {
      const a = windows[i]!;
      const b = windows[j]!;
      if (a.kind === "once" && b.kind === "once") {
        if (a.start < b.end && b.start < a.end) pairs.push([i, j]);
      } else if (a.kind === "weekly" && b.kind === "weekly" && a.timeZone === b.timeZone) {
        if (weeklyOverlap(a, b)) pairs.push([i, j]);
      }
    }
  }
  return pairs;
}

function weeklyOverlap(a: WeeklyFreeze, b: WeeklyFreeze): boolean {
  for (const [s1, e1] of weeklyIntervals(a))
    for (const [s2, e2] of weeklyIntervals(b))
      // Shift by a week either way so that intervals crossing Sunday midnight are compared on both sides.
      for (const shift of [-MINUTES_PER_WEEK, 0, MINUTES_PER_WEEK]) if (s1 < e2 + shift && s2 + shift < e1) return true;
  return false;
}

const HH_MM = /^([01]\d|2[0-3]):([0-5]\d)$|^24:00$/;

/** `HH:MM` (00:00 to 24:00) -> minute of the day, or null. */
export function parseTimeOfDay(text: unknown): number | null {
  if (typeof text !== "string") return null;
  const m = HH_MM.exec(text.trim());
  if (!m) return null;
  return m[1] === undefined ? MINUTES_PER_DAY : Number(m[1]) * 60 + Number(m[2]);
}

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/;

/** An RFC 3339 time with an explicit offset -> milliseconds since the epoch, or null (also for 2025-02-30). */
export function parseInstant(text: unknown): number | null {
  const m = typeof text === "string" ? RFC3339.exec(text.trim()) : null;
  if (!m) return null;
  // Date.parse rolls 2025-02-30 over into March: check the day against the month first.
  const [year, month, day] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (month < 1 || month > 12 || day < 1 || day > new Date(Date.UTC(year, month, 0)).getUTCDate()) return null;
  const t = Date.parse(m[0]);
  return Number.isNaN(t) ? null : t;
}
