import { useCallback, useEffect, useState } from "preact/hooks";
import { ApiError } from "../api.js";
import { watchEnvironments, type SnapshotEvent } from "../live.js";

export interface Loaded<T> {
  data: T | null;
  error: string | null;
  reload: () => void;
}

/** Loads `fetcher()` now and on each `reload()`; keeps the last good data while reloading. */
export function useLoad<T>(fetcher: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [data, setData] = useState<T | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    fetcher().then(
      (d) => {
        if (live) {
          setData(d);
          setError(null);
        }
      },
      (e: unknown) => {
        if (!live) return;
        // The session ended (token revoked, signed out elsewhere): back to the login form.
        if (e instanceof ApiError && e.status === 401) location.assign("/ui/");
        setError((e as Error).message);
      },
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { data, error, reload };
}

/** Reloads on every new version of `environments`, and says so in a polite live region. */
export function useLive(environments: readonly string[], reload: () => void): string | null {
  const [news, setNews] = useState<string | null>(null);
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
  }, [key]);
  return news;
}

export function LiveNote({ news }: { news: string | null }) {
  return (
    <p class="live" role="status" aria-live="polite">
      {news === null ? "Live: updates appear as versions are published." : `Updated: ${news}.`}
    </p>
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
