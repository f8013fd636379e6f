/**
 * Fleet records shared through the store, so that with several servers behind one address every dashboard
 * and every `GET /v1/status` shows every client, whichever server it asks (docs/distribution.md, "Several
 * servers"). Each server writes its own records as one document (core/protocol/status.ts
 * `SharedClientsDocument`) when they changed, and at least every REWRITE_MS so the others know it is there;
 * it reads the others' every SHARE_MS, ignores a document older than SHARED_CLIENTS_STALE_MS (a server that
 * stopped or lost the store), and deletes its own when it shuts down.
 */
import { randomUUID } from "node:crypto";
import {
  parseSharedClients,
  SHARED_CLIENTS_STALE_MS,
  type ClientRecord,
  type SharedClientsDocument,
} from "../core/protocol/index.js";
import type { SnapshotStore } from "../io/stores/index.js";
import type { ClientTracker } from "./clients.js";
import type { LogFn } from "./log.js";

/** How often the others' records are read, and this server's written when they changed. */
const SHARE_MS = 2_000;
/** This server's document is written at least this often, changed or not (its `writtenAt` is its pulse). */
const REWRITE_MS = 10_000;

export class ClientSharing {
  readonly server = randomUUID();
  private timer: NodeJS.Timeout | null = null;
  private written = -1;
  private writtenAt = 0;
  private running: Promise<void> | null = null;
  /** Whether the last round failed (logged once each way). */
  private failing = false;

  constructor(
    private readonly store: SnapshotStore,
    private readonly tracker: ClientTracker,
    private readonly log: LogFn,
    private readonly intervalMs = SHARE_MS,
  ) {}

  start(): void {
    this.timer = setInterval(() => {
      this.running ??= this.round().finally(() => (this.running = null));
    }, this.intervalMs);
    this.timer.unref();
  }

  /** One round: write ours if it changed (or is due), then read everyone's. */
  async round(now = Date.now()): Promise<void> {
    try {
      const changes = this.tracker.changes;
      if (changes !== this.written || now - this.writtenAt >= REWRITE_MS) {
        const doc: SharedClientsDocument = {
          schemaVersion: 1,
          server: this.server,
          writtenAt: new Date(now).toISOString(),
          clients: this.tracker.local(now),
        };
        await this.store.putClientRecords(this.server, JSON.stringify(doc));
        this.written = changes;
        this.writtenAt = now;
      }
      const remote: ClientRecord[] = [];
      for (const text of await this.store.listClientRecords()) {
        const doc = parseSharedClients(text);
        if (doc === null || doc.server === this.server) continue;
        if (now - Date.parse(doc.writtenAt) > SHARED_CLIENTS_STALE_MS) continue;
        remote.push(...doc.clients);
      }
      this.tracker.setRemote(remote);
      if (this.failing) this.log("info", "sharing the fleet records through the store works again");
      this.failing = false;
    } catch (e) {
      if (!this.failing)
        this.log("warn", "cannot share the fleet records through the store", { error: (e as Error).message });
      this.failing = true;
    }
  }

  /** Stops, and removes this server's document so the others forget its clients at once. */
  async close(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.running;
    await this.store.deleteClientRecords(this.server).catch(() => undefined);
  }
}
