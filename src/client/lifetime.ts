/**
 * Everything a client holds open (timers, requests, streams) is tied to one lifetime: `close()` ends it
 * all, so the process exits by itself afterwards.
 */
const MAX_TIMER_MS = 2_147_000_000;

export class Lifetime {
  private closedFlag = false;
  private readonly controller = new AbortController();
  private readonly timers = new Set<NodeJS.Timeout>();

  get closed(): boolean {
    return this.closedFlag;
  }

  /** Runs `fn` after `ms` (capped at what a Node timer holds), unless closed first. */
  timer(fn: () => void, ms: number): NodeJS.Timeout {
    const t = setTimeout(
      () => {
        this.timers.delete(t);
        fn();
      },
      Math.max(0, Math.min(ms, MAX_TIMER_MS)),
    );
    this.timers.add(t);
    return t;
  }

  clear(t: NodeJS.Timeout | null): void {
    if (t === null) return;
    clearTimeout(t);
    this.timers.delete(t);
  }

  /** Resolves after `ms`, or at once when closed. */
  sleep(ms: number): Promise<void> {
    if (this.closedFlag) return Promise.resolve();
    return new Promise((resolve) => {
      const t = this.timer(() => {
        this.controller.signal.removeEventListener("abort", done);
        resolve();
      }, ms);
      const done = (): void => {
        this.clear(t);
        resolve();
      };
      this.controller.signal.addEventListener("abort", done, { once: true });
    });
  }

  /** Aborts `controller` when this closes; returns the function that stops doing so. */
  link(controller: AbortController): () => void {
    const abort = (): void => controller.abort();
    this.controller.signal.addEventListener("abort", abort);
    return () => this.controller.signal.removeEventListener("abort", abort);
  }

  close(): void {
    if (this.closedFlag) return;
    this.closedFlag = true;
    this.controller.abort();
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
  }
}
