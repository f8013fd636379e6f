// Whether the page can reach the server, and when it last heard from it: one store for the whole tab.
// Every request and event stream reports here. When a request fails for want of the server (no answer, or
// a proxy's 502/503/504), the page says so and probes the server with a growing delay; when it answers
// again, every page reloads its data and reopens its streams by itself (the `generation` goes up).

export type ConnectionState =
  | { state: "connecting"; lastUpdate: number | null }
  | { state: "live"; lastUpdate: number }
  | { state: "down"; lastUpdate: number | null; since: number; error: string };

/** The first probe's delay after a failure; each failed probe doubles it, up to PROBE_MAX_MS. */
const PROBE_FIRST_MS = 1000;
const PROBE_MAX_MS = 15_000;
const PROBE_PATH = "/ui/api/session";

let current: ConnectionState = { state: "connecting", lastUpdate: null };
let generation = 0;
let probeTimer: ReturnType<typeof setTimeout> | null = null;
let probeDelay = PROBE_FIRST_MS;
const listeners = new Set<() => void>();

function set(next: ConnectionState): void {
  current = next;
  for (const l of listeners) l();
}

export function connection(): ConnectionState {
  return current;
}

/** Goes up each time the server comes back: the pages reload and reopen their streams on it. */
export function connectionGeneration(): number {
  return generation;
}

export function subscribeConnection(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The server answered (any answer that is not a gateway's "unreachable"). */
export function reportAnswer(): void {
  const wasDown = current.state === "down";
  if (probeTimer !== null) clearTimeout(probeTimer);
  probeTimer = null;
  probeDelay = PROBE_FIRST_MS;
  if (wasDown) generation += 1;
  set({ state: "live", lastUpdate: Date.now() });
}

/** The server did not answer: say so (once) and start probing until it does. */
export function reportUnreachable(error: string): void {
  if (current.state !== "down") set({ state: "down", lastUpdate: current.lastUpdate, since: Date.now(), error });
  scheduleProbe();
}

/** Whether a response means "the server is not there" rather than an answer of the server's. */
export function isUnreachableStatus(status: number): boolean {
  return status === 502 || status === 503 || status === 504;
}

function scheduleProbe(): void {
  if (probeTimer !== null) return;
  probeTimer = setTimeout(() => {
    probeTimer = null;
    void probe();
  }, probeDelay);
  probeDelay = Math.min(PROBE_MAX_MS, probeDelay * 2);
}

/** One request to the server; the outcome is reported like any other. */
export async function probe(): Promise<void> {
  try {
    const res = await fetch(PROBE_PATH, { headers: { accept: "application/json" }, credentials: "same-origin" });
    if (isUnreachableStatus(res.status)) reportUnreachable(`${res.status} ${res.statusText}`);
    // The session ended (the token revoked: the server ended its event stream): back to the login form.
    else if (res.status === 401) location.assign("/ui/");
    else reportAnswer();
  } catch (e) {
    reportUnreachable((e as Error).message);
  }
}
