/**
 * `file:DIR`, the embedded store. Layout:
 *
 *   DIR/lock                                 held while one process publishes (pid, host, token)
 *   DIR/.tmp-<pid>-*                         a lock being taken (or one a crash left: removed at open)
 *   DIR/envs/<env>/[v/].tmp-<pid>-*          a file being written under the lock (a crash's: removed at open)
 *   DIR/envs/<env>/v/<000000000007>.json     version 7, written once, never changed
 *   DIR/envs/<env>/history.jsonl             append-only: one history/audit line per version
 *   DIR/envs/<env>/head.json                 the current pointer, replaced by rename
 *   DIR/clients/<server>.json                each server's fleet records, replaced by rename (no lock)
 *   DIR/envs/<env>/rollout.json              the chain's rollout record, replaced by rename under the lock
 *                                            (compare-and-swap on its SHA-256)
 *   DIR/envs/<env>/reports/<server>.json     each server's health-report totals of the chain (no lock)
 *   DIR/envs/<env>/services/<svc>/…          a service's own chain, laid out the same (its head.json, history.jsonl, v/)
 *
 * A publish, under the lock: temp file, fsync, link to its version name (link fails if the name exists, so
 * even a wrongly broken lock cannot duplicate a version), fsync the directory; append the history line;
 * replace head.json (temp, rename). A crash at any instant leaves either the old state or a
 * version file ahead of head.json; the next lock holder (and every open) rolls the pointer and history
 * forward from the version files, so what a client saw acknowledged is always there.
 *
 * Fencing: a lock holder that stalls past STALE_LOCK_MS can have its lock broken by another server. Before it
 * replaces head.json it checks that the lock file is still its own and that head.json is not already at a
 * later version; otherwise it leaves head.json alone (its version file is durable and the new holder rolled
 * the pointer forward past it), so the head never moves backwards.
 */
import { createHash, randomBytes } from "node:crypto";
import { constants, promises as fs, watch as watchFs, type FSWatcher } from "node:fs";
import { hostname } from "node:os";
import { dirname, join, resolve } from "node:path";
import { StrataError } from "../../core/findings.js";
import { isValidName } from "../../core/names.js";
import { SHARED_SERVER_ID } from "../../core/protocol/status.js";
import { chainKey, parseChainKey } from "../../core/protocol/chains.js";
import type { Snapshot } from "../../core/snapshot/index.js";
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
import { writeFileAtomic } from "../fs/write-atomic.js";
import { StoreWatchers } from "./watchers.js";

const LOCK_TIMEOUT_MS = 20_000;
/**
 * A lock file this old, or left by a dead process on this host, belongs to a crashed (or hung) writer. A
 * publish holds it for milliseconds; the bound is below LOCK_TIMEOUT_MS so that a lock whose pid was reused
 * by another process delays publishers but never fails them.
 */
const STALE_LOCK_MS = 10_000;
const POLL_MS = 1_000;
const VERSION_FILE = /^(\d{12})\.json$/;

function errno(e: unknown): string | undefined {
  return (e as NodeJS.ErrnoException | null)?.code;
}

async function readText(path: string): Promise<string | null> {
  try {
    return await fs.readFile(path, "utf8");
  } catch (e) {
    if (errno(e) === "ENOENT" || errno(e) === "ENOTDIR") return null;
    throw e;
  }
}

async function syncDir(dir: string): Promise<void> {
  const fh = await fs.open(dir, constants.O_RDONLY);
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function writeDurable(path: string, text: string, flags: string): Promise<void> {
  const fh = await fs.open(path, flags, 0o644);
  try {
    await fh.writeFile(text);
    await fh.sync();
  } finally {
    await fh.close();
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return errno(e) === "EPERM";
  }
}

/** A rollout record's revision: its content's hash (a record never repeats: its plan version only rises). */
function revisionOf(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex").slice(0, 32);
}

async function pathPresent(path: string): Promise<boolean> {
  return (await readText(path)) !== null;
}

function tmpName(): string {
  return `.tmp-${process.pid}-${randomBytes(6).toString("hex")}`;
}

function actionOf(snapshot: Snapshot, previous: HistoryEntry | undefined): HistoryEntry["action"] {
  if (snapshot.rollbackOf !== null) return "rollback";
  return previous !== undefined && previous.contentDigest === snapshot.contentDigest ? "refresh" : "publish";
}

/**
 * Test seams: a pause before head.json is replaced (to play a stalled writer), the stale-lock age, and a
 * call each time a publish finds the lock held by a live writer and waits (the signal a test waits on).
 */
export interface FileStoreOptions {
  beforeHeadRename?: (environment: string, version: number) => Promise<void>;
  staleLockMs?: number;
  onLockBusy?: () => void;
}

export async function openFileStore(location: string, options: FileStoreOptions = {}): Promise<SnapshotStore> {
  const store = new FileStore(resolve(location), options);
  await fs.mkdir(join(store.root, "envs"), { recursive: true });
  await store.recoverAll();
  return store;
}

class FileStore implements SnapshotStore {
  readonly kind = "file" as const;
  readonly description: string;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly watchers = new StoreWatchers({ start: () => this.startWatching(), stop: () => this.stopWatching() });
  private readonly dirWatchers = new Map<string, FSWatcher>();
  private rootWatcher: FSWatcher | null = null;
  private poll: NodeJS.Timeout | null = null;
  private closed = false;
  /** The content of the lock file while this process holds it; null otherwise. */
  private lockText: string | null = null;

  constructor(
    readonly root: string,
    private readonly options: FileStoreOptions = {},
  ) {
    this.description = `file:${root}`;
  }

  private envDir(environment: string): string {
    return join(this.root, "envs", environment);
  }

  private versionPath(environment: string, version: number): string {
    return join(this.envDir(environment), "v", `${padVersion(version)}.json`);
  }

  async environments(): Promise<string[]> {
    const names = await this.listEnvironmentDirs();
    const out: string[] = [];
    for (const n of names.filter(isValidName).sort()) if ((await this.head(n)) !== null) out.push(n);
    return out;
  }

  async services(environment: string): Promise<string[]> {
    checkKey(environment);
    const names = await fs.readdir(join(this.envDir(environment), "services")).catch(() => [] as string[]);
    const out: string[] = [];
    for (const n of names.filter(isValidName).sort())
      if ((await this.head(chainKey({ environment, service: n }))) !== null) out.push(n);
    return out;
  }

  /** The keys of every chain with a directory: each environment's, then its services'. */
  private async chainKeys(): Promise<string[]> {
    const keys: string[] = [];
    for (const env of (await this.listEnvironmentDirs()).filter(isValidName)) {
      keys.push(env);
      const services = await fs.readdir(join(this.envDir(env), "services")).catch(() => [] as string[]);
      for (const svc of services.filter(isValidName)) keys.push(chainKey({ environment: env, service: svc }));
    }
    return keys;
  }

  async head(environment: string): Promise<Head | null> {
    checkKey(environment);
    const text = await readText(join(this.envDir(environment), "head.json"));
    if (text === null) return null;
    try {
      return JSON.parse(text) as Head;
    } catch {
      // Torn by a power loss (it is not fsynced): recovery rebuilds it from the version files.
      return null;
    }
  }

  locate(environment: string, version: number): string {
    return this.versionPath(environment, version);
  }

  async read(environment: string, version: number): Promise<string | null> {
    checkKey(environment);
    if (!Number.isSafeInteger(version) || version < 1) return null;
    return readText(this.versionPath(environment, version));
  }

  async history(environment: string): Promise<HistoryEntry[]> {
    checkKey(environment);
    const text = await readText(join(this.envDir(environment), "history.jsonl"));
    const out: HistoryEntry[] = [];
    for (const line of (text ?? "").split("\n")) {
      if (line === "") continue;
      // A line torn by a power loss is skipped here and rebuilt from its version file by recovery.
      try {
        const entry = JSON.parse(line) as HistoryEntry;
        // A writer whose lock was broken as stale may append a line recovery already rebuilt: keep one.
        if (entry.version > (out.at(-1)?.version ?? 0)) out.push(entry);
      } catch {
        continue;
      }
    }
    return out;
  }

  async audit(): Promise<HistoryEntry[]> {
    const all: HistoryEntry[] = [];
    for (const key of await this.chainKeys()) all.push(...(await this.history(key)));
    return all.sort(
      (a, b) =>
        a.publishedAt.localeCompare(b.publishedAt) ||
        a.environment.localeCompare(b.environment) ||
        (a.service ?? "").localeCompare(b.service ?? "") ||
        a.version - b.version,
    );
  }

  async publish(request: PublishRequest): Promise<PublishOutcome> {
    const environment = keyOf(request.snapshot);
    checkKey(environment);
    const outcome = await this.withLock(async () => {
      const current = await this.recover(environment);
      if ((current?.version ?? 0) !== request.expected || request.snapshot.version !== request.expected + 1)
        return { ok: false as const, current };
      const envDir = this.envDir(environment);
      const vDir = join(envDir, "v");
      if (current === null) {
        await fs.mkdir(vDir, { recursive: true });
        // Every directory the mkdir may have created, up to envs/ (a service's chain is three levels down).
        const envs = join(this.root, "envs");
        for (let dir = envDir; dir !== envs; dir = dirname(dir)) await syncDir(dirname(dir));
        await syncDir(envDir);
      }
      try {
        // Written aside, fsynced, linked to its final name (which fails if that version exists), the
        // directory fsynced: the one atomic writer (io/fs/write-atomic.ts), never through a link.
        await writeFileAtomic(this.versionPath(environment, request.snapshot.version), request.text, {
          within: this.root,
          exclusive: true,
          mode: 0o644,
        });
      } catch (e) {
        if (errno(e) === "EEXIST") return { ok: false as const, current: await this.recover(environment) };
        throw e;
      }
      const entry = createHistoryEntry(request, new Date().toISOString());
      await writeDurable(join(envDir, "history.jsonl"), JSON.stringify(entry) + "\n", "a");
      const head = headOf(entry);
      await this.writeHead(environment, head);
      return { ok: true as const, head };
    });
    if (outcome.ok) this.watchers.emit({ key: environment, head: outcome.head });
    return outcome;
  }

  /**
   * Not fsynced: the version file is the durable record and head.json only points at it. After a power
   * loss head.json is the old pointer, the new one or unreadable, and recovery rolls it forward from the
   * version files; two fsyncs fewer per publish.
   */
  private async writeHead(environment: string, head: Head): Promise<void> {
    await writeFileAtomic(join(this.envDir(environment), "head.json"), JSON.stringify(head), {
      within: this.root,
      mode: 0o644,
      durable: false,
      beforeReplace: async () => {
        await this.options.beforeHeadRename?.(environment, head.version);
        // The fence: only the lock holder moves the pointer, and only forwards.
        if (!(await this.holdsLock())) return false;
        const onDisk = await this.head(environment);
        return onDisk === null || onDisk.version < head.version;
      },
    });
  }

  private async holdsLock(): Promise<boolean> {
    return this.lockText !== null && (await readText(join(this.root, "lock"))) === this.lockText;
  }

  /** Under the lock: roll head.json and history forward to the newest version file. Returns the head. */
  private async recover(environment: string): Promise<Head | null> {
    const head = await this.head(environment);
    const next = (head?.version ?? 0) + 1;
    const lagging = await fs.stat(this.versionPath(environment, next)).then(
      () => true,
      () => false,
    );
    if (!lagging) return head;
    const envDir = this.envDir(environment);
    const vDir = join(envDir, "v");
    const names = await fs.readdir(vDir);
    // Temp files exist only while a lock holder writes: under the lock, any left over is a crashed writer's.
    for (const n of names) if (n.startsWith(".tmp-")) await fs.unlink(join(vDir, n)).catch(() => undefined);
    const versions = names
      .map((n) => VERSION_FILE.exec(n)?.[1])
      .filter((v) => v !== undefined)
      .map(Number)
      .sort((a, b) => a - b);
    const history = await this.history(environment);
    const historyPath = join(envDir, "history.jsonl");
    const raw = (await readText(historyPath)) ?? "";
    if (raw !== "" && !raw.endsWith("\n")) await writeDurable(historyPath, "\n", "a");
    let last = history.at(-1);
    for (const v of versions) {
      if (v <= (last?.version ?? 0)) continue;
      const path = this.versionPath(environment, v);
      const snapshot = JSON.parse(await fs.readFile(path, "utf8")) as Snapshot;
      const mtime = (await fs.stat(path)).mtime.toISOString();
      const entry = createHistoryEntry({ snapshot, action: actionOf(snapshot, last), actor: null }, mtime, true);
      await writeDurable(historyPath, JSON.stringify(entry) + "\n", "a");
      last = entry;
    }
    if (last === undefined) return head;
    const recovered = headOf(last);
    await this.writeHead(environment, recovered);
    return recovered;
  }

  async recoverAll(): Promise<void> {
    for (const n of await fs.readdir(this.root)) {
      // Lock candidates of crashed processes: named after their pid, and a live process links its candidate
      // within a millisecond, so one of a dead pid on this host, or an old one, is left over.
      const path = join(this.root, n);
      if (!n.startsWith(".tmp-")) continue;
      const pid = Number(/^\.tmp-(\d+)-/.exec(n)?.[1] ?? NaN);
      const old = Date.now() - (await fs.stat(path).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs > 60_000;
      if (old || (Number.isSafeInteger(pid) && pid !== process.pid && !isAlive(pid)))
        await fs.unlink(path).catch(() => undefined);
    }
    const envs = await this.chainKeys();
    if (envs.length === 0) return;
    await this.withLock(async () => {
      for (const env of envs) {
        // Under the lock every temp file in an environment is a crashed writer's (head and version temps).
        for (const dir of [this.envDir(env), join(this.envDir(env), "v")]) {
          const entries = await fs.readdir(dir).catch(() => [] as string[]);
          for (const n of entries) if (n.startsWith(".tmp-")) await fs.unlink(join(dir, n)).catch(() => undefined);
        }
        await this.recover(env);
      }
    });
  }

  /** One publisher at a time: a promise queue within this process, a lock file across processes. */
  private withLock<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(async () => {
      const release = await this.acquireLock();
      try {
        return await fn();
      } finally {
        await release();
      }
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async acquireLock(): Promise<() => Promise<void>> {
    const path = join(this.root, "lock");
    const mine = JSON.stringify({
      pid: process.pid,
      host: hostname(),
      token: randomBytes(8).toString("hex"),
      at: new Date().toISOString(),
    });
    const deadline = Date.now() + LOCK_TIMEOUT_MS;
    for (;;) {
      // Written aside and linked into place, so the lock file is never seen empty (a writer killed between
      // creating and filling it would otherwise leave a lock nobody can judge stale for 10 s).
      const tmp = join(this.root, tmpName());
      await fs.writeFile(tmp, mine, { flag: "wx" });
      try {
        await fs.link(tmp, path);
        await fs.unlink(tmp);
        this.lockText = mine;
        return async () => {
          this.lockText = null;
          // Only remove the lock if it is still ours (never someone else's after a stale-lock break).
          if ((await readText(path)) === mine) await fs.unlink(path).catch(() => undefined);
        };
      } catch (e) {
        await fs.unlink(tmp).catch(() => undefined);
        if (errno(e) !== "EEXIST") throw e;
      }
      if (await this.breakStaleLock(path)) continue;
      this.options.onLockBusy?.();
      if (Date.now() > deadline) {
        throw new StrataError("push-failed", `the store ${this.root} stayed locked for ${LOCK_TIMEOUT_MS / 1000}s`, {
          hint: `another strata serve is publishing, or a crashed one on another host left ${path}; remove it if no server is running`,
        });
      }
      await new Promise((r) => setTimeout(r, 1 + Math.random() * 4));
    }
  }

  private async breakStaleLock(path: string): Promise<boolean> {
    const [text, stat] = await Promise.all([readText(path), fs.stat(path).catch(() => null)]);
    if (text === null || stat === null) return true;
    let holder: { pid?: number; host?: string } = {};
    try {
      holder = JSON.parse(text) as typeof holder;
    } catch {
      // Empty or partial: a writer between create and write, or one that crashed there.
    }
    const old = Date.now() - stat.mtimeMs > (this.options.staleLockMs ?? STALE_LOCK_MS);
    const dead =
      holder.host === hostname() &&
      typeof holder.pid === "number" &&
      holder.pid !== process.pid &&
      !isAlive(holder.pid);
    if (!old && !dead) return false;
    const aside = `${path}.stale-${randomBytes(6).toString("hex")}`;
    try {
      await fs.rename(path, aside);
    } catch (e) {
      if (errno(e) === "ENOENT") return true;
      throw e;
    }
    // Between our read and the rename another process may have broken it and locked afresh: put theirs back.
    if ((await readText(aside)) !== text) await fs.link(aside, path).catch(() => undefined);
    await fs.unlink(aside).catch(() => undefined);
    return true;
  }

  /**
   * The directories under envs/: none when envs/ is missing; any other failure (EACCES, ENOTDIR, EIO) is
   * an error naming the directory, never "no environments".
   */
  private async listEnvironmentDirs(): Promise<string[]> {
    const dir = join(this.root, "envs");
    try {
      return await fs.readdir(dir);
    } catch (e) {
      if (errno(e) === "ENOENT") return [];
      throw new StrataError("unreadable-file", `cannot read the store directory ${dir}: ${errno(e) ?? String(e)}`, {
        hint: "check that the directory is the store's and is readable by the user strata serve runs as",
        cause: e,
      });
    }
  }

  /** Reports a new head of one environment; a failure goes to the watchers' problem listeners. */
  private async check(environment: string): Promise<boolean> {
    if (this.closed || parseChainKey(environment) === null) return true;
    try {
      const head = await this.head(environment);
      if (head !== null) this.watchers.emit({ key: environment, head });
    } catch (e) {
      this.watchers.readFailed(e);
      return false;
    }
    this.watchEnvironment(environment);
    return true;
  }

  private async scan(): Promise<void> {
    let names: string[];
    try {
      names = await this.chainKeys();
    } catch (e) {
      this.watchers.readFailed(e);
      return;
    }
    const results = await Promise.all(names.map((n) => this.check(n)));
    if (results.every(Boolean)) this.watchers.readOk();
    if (this.rolloutListeners.size > 0) await Promise.all(names.map((n) => this.checkRollout(n)));
  }

  private watchEnvironment(environment: string): void {
    if (this.closed || this.dirWatchers.has(environment) || !this.watchers.active) return;
    try {
      const w = watchFs(this.envDir(environment), (_type, name) => {
        if (name === "head.json") void this.check(environment);
        else if (name === "rollout.json") void this.checkRollout(environment);
      });
      w.on("error", () => undefined);
      this.dirWatchers.set(environment, w);
    } catch {
      // The poll below still notices.
    }
  }

  /**
   * Other processes on the same directory publish too: inotify tells us quickly, a slow poll makes sure
   * (watch events can be dropped under load).
   */
  watch(listener: (e: StoreEvent) => void, onProblem?: (problem: StoreProblem) => void): () => void {
    return this.watchers.add(listener, onProblem);
  }

  private startWatching(): void {
    if (this.closed) return;
    void this.seedSeen()
      .catch((e: unknown) => this.watchers.readFailed(e))
      .then(() => this.scan());
    try {
      this.rootWatcher = watchFs(join(this.root, "envs"), (_t, name) => {
        if (name !== null) void this.check(name);
      });
      this.rootWatcher.on("error", () => undefined);
    } catch {
      this.rootWatcher = null;
    }
    this.poll = setInterval(() => void this.scan(), POLL_MS);
    this.poll.unref();
  }

  private async seedSeen(): Promise<void> {
    for (const key of await this.chainKeys()) {
      const head = await this.head(key);
      if (head !== null) this.watchers.markSeen(key, head.version);
    }
  }

  private stopWatching(): void {
    if (this.poll !== null) clearInterval(this.poll);
    this.poll = null;
    this.rootWatcher?.close();
    this.rootWatcher = null;
    for (const w of this.dirWatchers.values()) w.close();
    this.dirWatchers.clear();
  }

  private clientsPath(server: string): string {
    if (!SHARED_SERVER_ID.test(server))
      throw new StrataError("invalid-argument", `invalid server id ${JSON.stringify(server)}`);
    return join(this.root, "clients", `${server}.json`);
  }

  async putClientRecords(server: string, text: string): Promise<void> {
    // Rebuilt every few seconds by its server: no fsync, and no lock (each server writes only its own file).
    await writeFileAtomic(this.clientsPath(server), text, {
      within: this.root,
      createDirectories: true,
      durable: false,
    });
  }

  async listClientRecords(): Promise<string[]> {
    const dir = join(this.root, "clients");
    let names: string[];
    try {
      names = await fs.readdir(dir);
    } catch (e) {
      if (errno(e) === "ENOENT") return [];
      throw e;
    }
    const out: string[] = [];
    for (const n of names.filter((f) => f.endsWith(".json") && SHARED_SERVER_ID.test(f.slice(0, -5)))) {
      const text = await readText(join(dir, n));
      if (text !== null) out.push(text);
    }
    return out;
  }

  async deleteClientRecords(server: string): Promise<void> {
    await fs.rm(this.clientsPath(server), { force: true });
  }

  private rolloutPath(key: string): string {
    checkKey(key);
    return join(this.envDir(key), "rollout.json");
  }

  async readRollout(key: string): Promise<StoredRollout | null> {
    const text = await readText(this.rolloutPath(key));
    return text === null ? null : { text, revision: revisionOf(text) };
  }

  async writeRollout(key: string, text: string, expected: string | null): Promise<StoredRollout | null> {
    const path = this.rolloutPath(key);
    const written = await this.withLock(async () => {
      const current = await readText(path);
      if ((current === null ? null : revisionOf(current)) !== expected) return null;
      await writeFileAtomic(path, text, { within: this.root, createDirectories: true, durable: true });
      return { text, revision: revisionOf(text) };
    });
    if (written !== null) this.tellRollout(key, written.revision);
    return written;
  }

  async rollouts(): Promise<string[]> {
    const keys: string[] = [];
    for (const key of await this.chainKeys()) if (await pathPresent(this.rolloutPath(key))) keys.push(key);
    return keys;
  }

  private readonly rolloutListeners = new Set<(key: string) => void>();
  /** The revision of each chain's rollout record last told, so a poll tells only changes. */
  private readonly rolloutSeen = new Map<string, string>();

  watchRollouts(listener: (key: string) => void): () => void {
    this.rolloutListeners.add(listener);
    // The directory watches and the poll belong to the head watch, which the endpoint always runs; this
    // keeps them running for a store used for rollouts alone.
    const unwatch = this.watch(() => undefined);
    return () => {
      this.rolloutListeners.delete(listener);
      unwatch();
    };
  }

  private tellRollout(key: string, revision: string): void {
    if (this.rolloutSeen.get(key) === revision) return;
    this.rolloutSeen.set(key, revision);
    for (const l of [...this.rolloutListeners]) l(key);
  }

  private async checkRollout(key: string): Promise<void> {
    if (this.closed || this.rolloutListeners.size === 0 || parseChainKey(key) === null) return;
    const stored = await this.readRollout(key).catch(() => null);
    if (stored !== null) this.tellRollout(key, stored.revision);
  }

  private reportsPath(key: string, server: string): string {
    checkKey(key);
    if (!SHARED_SERVER_ID.test(server))
      throw new StrataError("invalid-argument", `invalid server id ${JSON.stringify(server)}`);
    return join(this.envDir(key), "reports", `${server}.json`);
  }

  async putRolloutReports(key: string, server: string, text: string): Promise<void> {
    // Rewritten every few seconds by its server, like the fleet records: no fsync, no lock.
    await writeFileAtomic(this.reportsPath(key, server), text, {
      within: this.root,
      createDirectories: true,
      durable: false,
    });
  }

  async listRolloutReports(key: string): Promise<string[]> {
    checkKey(key);
    const dir = join(this.envDir(key), "reports");
    const names = await fs.readdir(dir).catch((e: unknown) => {
      if (errno(e) === "ENOENT") return [] as string[];
      throw e;
    });
    const out: string[] = [];
    for (const n of names.filter((f) => f.endsWith(".json") && SHARED_SERVER_ID.test(f.slice(0, -5)))) {
      const text = await readText(join(dir, n));
      if (text !== null) out.push(text);
    }
    return out;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.watchers.clear();
    this.rolloutListeners.clear();
    await this.queue;
  }
}
