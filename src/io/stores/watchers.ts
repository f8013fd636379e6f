/**
 * The delivery half of `SnapshotStore.watch`, shared by every store: a set of listeners, at-least-once
 * delivery of each new current version (a version already told, or an older one, is dropped, so a poll, a
 * resync and a push may all report the same head), and starting the store's own change source with the
 * first listener and stopping it with the last.
 */
import type { StoreEvent, StoreProblem } from "./store.js";

export type StoreListener = (event: StoreEvent) => void;
export type StoreProblemListener = (problem: StoreProblem) => void;

export interface StoreWatchersOptions {
  /** Starts the store's change source (a poll, a file watcher, an etcd watch); called for the first listener. */
  start: () => void;
  /** Stops it; called when the last listener leaves. */
  stop: () => void;
}

export class StoreWatchers {
  private readonly listeners = new Set<StoreListener>();
  private readonly problemListeners = new Set<StoreProblemListener>();
  private readonly seen = new Map<string, number>();
  private failing = false;

  constructor(private readonly options: StoreWatchersOptions) {}

  /** Whether anyone is listening: a change source started late has nothing to do otherwise. */
  get active(): boolean {
    return this.listeners.size > 0;
  }

  /** Tells every listener about a head newer than the last one told for its environment. */
  emit(event: StoreEvent): void {
    if (!this.isNew(event.key, event.head.version)) return;
    this.seen.set(event.key, event.head.version);
    for (const l of this.listeners) l(event);
  }

  /** Records a version as already known without telling anyone: the heads present when watching starts. */
  markSeen(environment: string, version: number): void {
    if (this.isNew(environment, version)) this.seen.set(environment, version);
  }

  private isNew(environment: string, version: number): boolean {
    return (this.seen.get(environment) ?? 0) < version;
  }

  /**
   * The change source could not read the store (a poll, a resync): told once when it starts failing, not
   * on every poll, with the error; {@link readOk} tells the recovery.
   */
  readFailed(error: unknown): void {
    if (this.failing) return;
    this.failing = true;
    const e = error instanceof Error ? error : new Error(String(error));
    for (const l of this.problemListeners) l({ kind: "failing", error: e });
  }

  /** The change source read the store again. */
  readOk(): void {
    if (!this.failing) return;
    this.failing = false;
    for (const l of this.problemListeners) l({ kind: "recovered" });
  }

  /** Adds a listener (and one for the change source's problems); returns its unsubscribe. */
  add(listener: StoreListener, onProblem?: StoreProblemListener): () => void {
    this.listeners.add(listener);
    if (onProblem) this.problemListeners.add(onProblem);
    if (this.listeners.size === 1) this.options.start();
    return () => {
      if (onProblem) this.problemListeners.delete(onProblem);
      if (!this.listeners.delete(listener)) return;
      if (this.listeners.size === 0) this.options.stop();
    };
  }

  /** Drops every listener and stops the change source (the store is closing). */
  clear(): void {
    this.listeners.clear();
    this.problemListeners.clear();
    this.options.stop();
  }
}
