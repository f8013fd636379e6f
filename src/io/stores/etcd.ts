/**
 * `etcd://HOST:PORT[,HOST:PORT]/PREFIX`: several `strata serve` share one etcd cluster. Keys:
 *
 *   PREFIX/head/<env>               the current pointer (Head JSON)
 *   PREFIX/v/<env>/<000000000007>   version 7's snapshot text
 *   PREFIX/h/<env>/<000000000007>   its history/audit entry
 *   PREFIX/clients/<server>         each server's fleet records, replaced by a put
 *   PREFIX/rollout/<env>            the chain's rollout record (compare-and-swap on its mod revision; watched)
 *   PREFIX/reports/<env>/@<server>  each server's health-report totals of the chain, replaced by a put
 *
 * A service's chain has the same three keys with `<env>/services/<svc>` for `<env>` (core/protocol/chains.ts).
 *
 * A publish is one transaction: if head's mod revision is still the one read (or head is absent for the
 * first), put the version, its history entry and the new head. Every server holds one watch, from
 * PREFIX/head/ to PREFIX/rollout/ (heads, report totals, rollout records), and tells its own watchers;
 * after a reconnect, or when etcd cancels the watch because the revision it would resume from was
 * compacted, it re-reads every head (and tells every rollout record again), so no version is missed (at
 * least once; duplicates dropped).
 */
import type { Etcd3, Watcher } from "etcd3";
import { StrataError } from "../../core/findings.js";
import { importOptional } from "../optional-package.js";
import { isValidName } from "../../core/names.js";
import { SHARED_SERVER_ID } from "../../core/protocol/status.js";
import { parseChainKey } from "../../core/protocol/chains.js";
import {
  checkKey,
  createHistoryEntry,
  headOf,
  keyOf,
  padVersion,
  type Head,
  type HistoryEntry,
  type PublishOutcome,
  type PublishRequest,
  type SnapshotStore,
  type StoreEvent,
  type StoreProblem,
  type StoredRollout,
} from "./store.js";
import { StoreWatchers } from "./watchers.js";

const RESYNC_MS = 5_000;
const VERSION_KEY = /^\d{12}$/;

export function parseEtcdLocation(location: string): { hosts: string[]; prefix: string } {
  const slash = location.indexOf("/");
  const hostPart = slash < 0 ? location : location.slice(0, slash);
  const prefix = (slash < 0 ? "" : location.slice(slash + 1)).replace(/^\/+|\/+$/g, "") || "strata";
  const hosts = hostPart
    .split(",")
    .map((h) => h.trim())
    .filter((h) => h !== "");
  if (hosts.length === 0 || !hosts.every((h) => /^[A-Za-z0-9.\-[\]:]+:\d+$/.test(h))) {
    throw new StrataError("invalid-argument", `invalid etcd store etcd://${location}`, {
      hint: "use etcd://HOST:PORT[,HOST:PORT]/PREFIX",
    });
  }
  return { hosts: hosts.map((h) => `http://${h}`), prefix };
}

export async function openEtcdStore(location: string): Promise<SnapshotStore> {
  const { hosts, prefix } = parseEtcdLocation(location);
  const { Etcd3 } = await importOptional("etcd3", "The etcd store", () => import("etcd3"));
  const client = new Etcd3({
    hosts,
    dialTimeout: 3_000,
    grpcOptions: {
      "grpc.max_receive_message_length": 64 * 1024 * 1024,
      "grpc.max_send_message_length": 64 * 1024 * 1024,
    },
  });
  const store = new EtcdStore(client, prefix, `etcd://${hosts.map((h) => h.slice(7)).join(",")}/${prefix}`);
  // Fail at start, with a clear message, rather than at the first request.
  await store.environments();
  return store;
}

class EtcdStore implements SnapshotStore {
  readonly kind = "etcd" as const;
  private readonly watchers = new StoreWatchers({ start: () => this.startWatching(), stop: () => this.stopWatching() });
  private watcher: Watcher | null = null;
  private resyncTimer: NodeJS.Timeout | null = null;
  private closed = false;

  constructor(
    private readonly client: Etcd3,
    private readonly prefix: string,
    readonly description: string,
  ) {}

  private key(...parts: string[]): string {
    return [this.prefix, ...parts].join("/");
  }

  private async call<T>(what: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (cause) {
      if (cause instanceof StrataError) throw cause;
      throw new StrataError("unreachable", `etcd ${this.description}: ${what} failed: ${(cause as Error).message}`, {
        cause,
        hint: "check that etcd is running and reachable",
      });
    }
  }

  async environments(): Promise<string[]> {
    const keys = await this.call("listing environments", () =>
      this.client.getAll().prefix(this.key("head", "")).keys(),
    );
    return keys
      .map((k) => k.slice(this.key("head", "").length))
      .filter(isValidName)
      .sort();
  }

  async services(environment: string): Promise<string[]> {
    checkKey(environment);
    const prefix = this.key("head", environment, "services", "");
    const keys = await this.call("listing services", () => this.client.getAll().prefix(prefix).keys());
    return keys
      .map((k) => k.slice(prefix.length))
      .filter(isValidName)
      .sort();
  }

  private async readHead(environment: string): Promise<{ head: Head | null; mod: string | null }> {
    checkKey(environment);
    const res = await this.call("reading the current version", () =>
      this.client.get(this.key("head", environment)).exec(),
    );
    const kv = res.kvs[0];
    if (kv === undefined) return { head: null, mod: null };
    return { head: JSON.parse(kv.value.toString("utf8")) as Head, mod: String(kv.mod_revision) };
  }

  async head(environment: string): Promise<Head | null> {
    return (await this.readHead(environment)).head;
  }

  locate(environment: string, version: number): string {
    return `key ${this.key("v", environment, padVersion(version))} of ${this.description}`;
  }

  async read(environment: string, version: number): Promise<string | null> {
    checkKey(environment);
    if (!Number.isSafeInteger(version) || version < 1) return null;
    return this.call("reading a version", () =>
      this.client.get(this.key("v", environment, padVersion(version))).string(),
    );
  }

  async history(environment: string): Promise<HistoryEntry[]> {
    checkKey(environment);
    const prefix = this.key("h", environment, "");
    const values = await this.call("reading history", () =>
      this.client.getAll().prefix(prefix).sort("Key", "Ascend").strings(),
    );
    // An environment's prefix also holds its services' chains (`h/<env>/services/…`): only its own versions.
    return Object.entries(values)
      .filter(([k]) => VERSION_KEY.test(k.slice(prefix.length)))
      .map(([, v]) => JSON.parse(v) as HistoryEntry)
      .sort((a, b) => a.version - b.version);
  }

  async audit(): Promise<HistoryEntry[]> {
    const values = await this.call("reading the audit log", () =>
      this.client.getAll().prefix(this.key("h", "")).strings(),
    );
    return Object.values(values)
      .map((v) => JSON.parse(v) as HistoryEntry)
      .sort(
        (a, b) =>
          a.publishedAt.localeCompare(b.publishedAt) ||
          a.environment.localeCompare(b.environment) ||
          (a.service ?? "").localeCompare(b.service ?? "") ||
          a.version - b.version,
      );
  }

  async publish(request: PublishRequest): Promise<PublishOutcome> {
    const environment = keyOf(request.snapshot);
    const { head, mod } = await this.readHead(environment);
    if ((head?.version ?? 0) !== request.expected || request.snapshot.version !== request.expected + 1)
      return { ok: false, current: head };
    const entry = createHistoryEntry(request, new Date().toISOString());
    const next = headOf(entry);
    const headKey = this.key("head", environment);
    const versionKey = this.key("v", environment, padVersion(request.snapshot.version));
    const txn = (mod === null ? this.client.if(headKey, "Create", "==", 0) : this.client.if(headKey, "Mod", "==", mod))
      .and(versionKey, "Create", "==", 0)
      .then(
        this.client.put(versionKey).value(request.text),
        this.client.put(this.key("h", environment, padVersion(request.snapshot.version))).value(JSON.stringify(entry)),
        this.client.put(headKey).value(JSON.stringify(next)),
      );
    const res = await this.call("publishing", () => txn.commit());
    if (res.succeeded) {
      this.watchers.emit({ key: environment, head: next });
      return { ok: true, head: next };
    }
    const current = await this.head(environment);
    // A transaction retried after a lost reply fails its own compare: it is ours if the digest matches.
    if (
      current !== null &&
      current.version === request.snapshot.version &&
      current.digest === request.snapshot.digest
    ) {
      // Told now, as a first-time success is, so the publishing server's current never lags its own publish.
      this.watchers.emit({ key: environment, head: current });
      return { ok: true, head: current };
    }
    return { ok: false, current };
  }

  /** Re-read every head: after a reconnect or a compaction nothing published in the gap is missed. */
  private async resync(): Promise<void> {
    if (this.closed) return;
    try {
      const values = await this.client.getAll().prefix(this.key("head", "")).strings();
      for (const [k, v] of Object.entries(values))
        this.watchers.emit({ key: k.slice(this.key("head", "").length), head: JSON.parse(v) as Head });
      this.watchers.readOk();
    } catch (e) {
      // etcd is down (the watcher reconnects and we resync then), or a head is not ours: said once.
      this.watchers.readFailed(e);
    }
  }

  private async startWatcher(): Promise<void> {
    if (this.closed || !this.watchers.active) return;
    const headPrefix = this.key("head", "");
    const rolloutPrefix = this.key("rollout", "");
    // One watch per server: the range from head/ to rollout/ holds the heads, the report totals and the
    // rollout records (h/, v/ and clients/ sort outside it), so the rollouts need no watch of their own.
    const w = this.client
      .watch()
      .inRange({ start: headPrefix, end: this.key("rollout0") })
      .watcher();
    this.watcher = w;
    w.on("put", (kv) => {
      const k = kv.key.toString("utf8");
      if (k.startsWith(rolloutPrefix)) {
        const chain = k.slice(rolloutPrefix.length);
        if (parseChainKey(chain) !== null) for (const l of [...this.rolloutListeners]) l(chain);
        return;
      }
      if (!k.startsWith(headPrefix)) return;
      try {
        this.watchers.emit({
          key: k.slice(headPrefix.length),
          head: JSON.parse(kv.value.toString("utf8")) as Head,
        });
      } catch {
        // A value that is not ours: ignore it.
      }
    });
    w.on("connected", () => void this.resync());
    // After a (re)connect a rollout record may have changed unseen: each is told again (listeners re-read).
    w.on("connected", () => {
      if (this.rolloutListeners.size > 0)
        void this.rollouts().then(
          (keys) => keys.forEach((k) => this.rolloutListeners.forEach((l) => l(k))),
          () => undefined,
        );
    });
    w.on("error", () => {
      // etcd canceled the watch (typically: the revision to resume from was compacted). Start a new one at
      // the present and re-read the heads.
      if (this.watcher === w) this.watcher = null;
      void w.cancel().catch(() => undefined);
      setTimeout(() => void this.startWatcher().then(() => this.resync()), 200).unref();
    });
  }

  watch(listener: (e: StoreEvent) => void, onProblem?: (problem: StoreProblem) => void): () => void {
    return this.watchers.add(listener, onProblem);
  }

  private startWatching(): void {
    if (this.closed) return;
    void this.seedSeen().then(() => this.startWatcher());
    this.resyncTimer = setInterval(() => void this.resync(), RESYNC_MS);
    this.resyncTimer.unref();
  }

  private async seedSeen(): Promise<void> {
    try {
      const values = await this.client.getAll().prefix(this.key("head", "")).strings();
      for (const [k, v] of Object.entries(values)) {
        const env = k.slice(this.key("head", "").length);
        this.watchers.markSeen(env, (JSON.parse(v) as Head).version);
      }
    } catch {
      // Resync fills it in once etcd answers.
    }
  }

  private stopWatching(): void {
    if (this.resyncTimer !== null) clearInterval(this.resyncTimer);
    this.resyncTimer = null;
    const w = this.watcher;
    this.watcher = null;
    void w?.cancel().catch(() => undefined);
  }

  private clientsKey(server: string): string {
    if (!SHARED_SERVER_ID.test(server))
      throw new StrataError("invalid-argument", `invalid server id ${JSON.stringify(server)}`);
    return this.key("clients", server);
  }

  async putClientRecords(server: string, text: string): Promise<void> {
    await this.call("sharing the fleet records", () => this.client.put(this.clientsKey(server)).value(text).exec());
  }

  async listClientRecords(): Promise<string[]> {
    const values = await this.call("reading the fleet records", () =>
      this.client.getAll().prefix(this.key("clients", "")).strings(),
    );
    return Object.values(values);
  }

  async deleteClientRecords(server: string): Promise<void> {
    await this.call("removing the fleet records", () => this.client.delete().key(this.clientsKey(server)).exec());
  }

  async readRollout(key: string): Promise<StoredRollout | null> {
    checkKey(key);
    const res = await this.call("reading a rollout", () => this.client.get(this.key("rollout", key)).exec());
    const kv = res.kvs[0];
    return kv === undefined ? null : { text: kv.value.toString("utf8"), revision: String(kv.mod_revision) };
  }

  async writeRollout(key: string, text: string, expected: string | null): Promise<StoredRollout | null> {
    checkKey(key);
    const k = this.key("rollout", key);
    const txn = (
      expected === null ? this.client.if(k, "Create", "==", 0) : this.client.if(k, "Mod", "==", expected)
    ).then(this.client.put(k).value(text));
    const res = await this.call("writing a rollout", () => txn.commit());
    if (!res.succeeded) return null;
    const written = { text, revision: String(res.header.revision) };
    for (const l of [...this.rolloutListeners]) l(key);
    return written;
  }

  async rollouts(): Promise<string[]> {
    const prefix = this.key("rollout", "");
    const keys = await this.call("listing rollouts", () => this.client.getAll().prefix(prefix).keys());
    return keys.map((k) => k.slice(prefix.length)).filter((k) => parseChainKey(k) !== null);
  }

  private readonly rolloutListeners = new Set<(key: string) => void>();

  watchRollouts(listener: (key: string) => void): () => void {
    this.rolloutListeners.add(listener);
    // The store's one watch (startWatcher) carries the rollout records; it runs while anyone listens.
    const unwatch = this.watch(() => undefined);
    return () => {
      this.rolloutListeners.delete(listener);
      unwatch();
    };
  }

  private reportsKey(key: string, server: string): string {
    checkKey(key);
    if (!SHARED_SERVER_ID.test(server))
      throw new StrataError("invalid-argument", `invalid server id ${JSON.stringify(server)}`);
    return this.key("reports", key, `@${server}`);
  }

  async putRolloutReports(key: string, server: string, text: string): Promise<void> {
    await this.call("sharing the health reports", () =>
      this.client.put(this.reportsKey(key, server)).value(text).exec(),
    );
  }

  async listRolloutReports(key: string): Promise<string[]> {
    checkKey(key);
    const prefix = this.key("reports", key, "@");
    const values = await this.call("reading the health reports", () => this.client.getAll().prefix(prefix).strings());
    return Object.entries(values)
      .filter(([k]) => SHARED_SERVER_ID.test(k.slice(prefix.length)))
      .map(([, v]) => v);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
    this.rolloutListeners.clear();
    this.client.close();
  }
}
