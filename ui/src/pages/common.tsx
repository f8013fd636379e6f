import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError, UNREACHABLE } from "../api.js";
import { useNow } from "../clock.js";
import { connection, connectionGeneration, subscribeConnection, type ConnectionState } from "../connection.js";
import { ageOf, formatClock } from "../format.js";
import { watchEnvironments, type SnapshotEvent } from "../live.js";

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  /** When `data` arrived (the browser's clock). */
  at: number | null;
  reload: () => void;
}

/** The connection store's state, and its generation (which goes up when the server is back). */
export function useConnection(): { state: ConnectionState; generation: number } {
  const [, setTick] = useState(0);
  useEffect(() => subscribeConnection(() => setTick((t) => t + 1)), []);
  return { state: connection(), generation: connectionGeneration() };
}

/**
 * Loads `fetcher()` now, on each `reload()` and when the server comes back after being gone; keeps the last
 * good data while reloading or while the server is gone (the connection note says how old it is).
 */
export function useLoad<T>(fetcher: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [at, setAt] = useState<number | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const { generation } = useConnection();
  useEffect(() => {
    let live = true;
    fetcher().then(
      (d) => {
        if (live) {
          setData(d);
          setAt(Date.now());
          setError(null);
        }
      },
      (e: unknown) => {
        if (!live) return;
        // The session ended (token revoked, signed out elsewhere): back to the login form.
        if (e instanceof ApiError && e.status === 401) location.assign("/ui/");
        // The server is gone: the connection note says so, and this reloads when it is back.
        if (e instanceof ApiError && e.code === UNREACHABLE) return;
        setError((e as Error).message);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick, generation]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, at, reload };
}

/** Reloads on every new version of `environments`; reopens the streams when the server is back. */
export function useLive(environments: readonly string[], reload: () => void): string | null {
  const [news, setNews] = useState<string | null>(null);
  const { generation } = useConnection();
  const key = environments.join(",");
  useEffect(() => {
    if (environments.length === 0) return;
    return watchEnvironments(
      environments,
      (e: SnapshotEvent) => {
        setNews(`${e.environment} is now at version ${e.version}`);
        reload();
      },
      reload,
    );
  }, [key, generation]);
  return news;
}

/** Sets the tab's title: the page's name first, so tabs and history entries say which page they are. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} · strata`;
  }, [title]);
}

/**
 * The connection indicator: live (with the time of the last update, ticking), or gone (since when, with the
 * age of the data still shown), in a polite live region so a screen reader hears the change.
 */
export function LiveNote({ news }: { news: string | null }) {
  const { state } = useConnection();
  const now = useNow();
  const last =
    state.lastUpdate === null ? null : (
      <>
        last update{" "}
        <time dateTime={new Date(state.lastUpdate).toISOString()}>
          {formatClock(state.lastUpdate)} ({ageOf(new Date(state.lastUpdate).toISOString(), now)})
        </time>
      </>
    );
  return (
    <div class={`connection connection-${state.state}`}>
      <p class="live" role="status" aria-live="polite">
        {state.state === "down" ? (
          <>
            <strong>Connection lost:</strong> the strata server is not answering (since {formatClock(state.since)}).
            Retrying by itself{state.lastUpdate === null ? "." : "; what is shown is from the "}
            {last}
            {state.lastUpdate === null ? "" : "."}
          </>
        ) : state.state === "connecting" ? (
          "Connecting…"
        ) : (
          <>
            <strong>Live</strong>: {news === null ? "updates appear as versions are published" : `updated: ${news}`};{" "}
            {last}.
          </>
        )}
      </p>
    </div>
  );
}

export function Problem({ error }: { error: string | null }) {
  return error === null ? null : (
    <p role="alert" class="error">
      {error}
    </p>
  );
}

export function Badge({ kind, children }: { kind: string; children: preact.ComponentChildren }) {
  return <span class={`badge badge-${kind}`}>{children}</span>;
}
