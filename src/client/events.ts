/**
 * What a client tells the service: `change`, `error`, `stale`, `reconnect` and `reconnected` events, and `watch` callbacks
 * per changed leaf. A listener's failure is the listener's: it never reaches the client.
 */
import { createGlobMatcher } from "../core/glob.js";
import type { StrataClientError } from "./errors.js";
import { diffTrees, type ConfigTree, type LeafChange } from "./tree.js";

export interface ChangeEvent {
  version: number;
  previousVersion: number;
  changes: readonly LeafChange[];
}

export interface WatchEvent {
  key: string;
  before: unknown;
  after: unknown;
  version: number;
}

export interface ReconnectEvent {
  attempt: number;
  delayMs: number;
  transport: "events" | "long-poll";
  reason: string;
}

/** The endpoint answers again after one or more `reconnect` events. */
export interface ReconnectedEvent {
  transport: "events" | "long-poll";
  /** The version in use once back (the endpoint's current one, unless it was refused). */
  version: number;
}

export interface ClientEvents {
  change: ChangeEvent;
  error: StrataClientError;
  stale: { version: number; expiresAt: string };
  reconnect: ReconnectEvent;
  reconnected: ReconnectedEvent;
}

export type Listener<E extends keyof ClientEvents> = (event: ClientEvents[E]) => void;

export class Emitter {
  private readonly listeners = new Map<keyof ClientEvents, Set<(e: never) => void>>();
  private readonly watchers = new Set<{ match: (key: string) => boolean; cb: (e: WatchEvent) => void }>();

  on<E extends keyof ClientEvents>(event: E, listener: Listener<E>): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) this.listeners.set(event, (set = new Set()));
    set.add(listener as (e: never) => void);
    return () => void set.delete(listener as (e: never) => void);
  }

  watch(pattern: string, cb: (event: WatchEvent) => void): () => void {
    const w = { match: createGlobMatcher(pattern), cb };
    this.watchers.add(w);
    return () => void this.watchers.delete(w);
  }

  emit<E extends keyof ClientEvents>(event: E, payload: ClientEvents[E]): void {
    for (const l of [...(this.listeners.get(event) ?? [])]) {
      try {
        (l as Listener<E>)(payload);
      } catch {
        // A listener's failure is the listener's: the client keeps running.
      }
    }
  }

  /** A newer snapshot replaced `previous`: one `change` event, then each matching watcher once per leaf. */
  changed(previous: { tree: ConfigTree; version: number }, next: { tree: ConfigTree; version: number }): void {
    const changes = diffTrees(previous.tree, next.tree);
    const version = next.version;
    this.emit("change", { version, previousVersion: previous.version, changes });
    if (this.watchers.size === 0) return;
    for (const c of changes) {
      for (const w of [...this.watchers]) {
        if (!w.match(c.key)) continue;
        try {
          w.cb({ key: c.key, before: c.before, after: c.after, version });
        } catch {
          // A watcher's failure is the watcher's.
        }
      }
    }
  }
}
