/**
 * `strata serve`: the distribution endpoint of docs/distribution.md over a {@link SnapshotStore}. The current snapshot of
 * each environment is kept in memory as the exact bytes to send, updated from the store's watch, so a read
 * is a hash lookup and a write of a prepared buffer; watchers (long-polls, event streams) are woken by the
 * same event, whichever server published the version.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { isStrataError, StrataError, type Code } from "../core/findings.js";
import { redact } from "../core/redact.js";
import {
  encodeSnapshot,
  parseSnapshot,
  validateSuccessor,
  verifySnapshot,
  type PublicKey,
  type Snapshot,
} from "../core/snapshot/index.js";
import type { Head, PublishAction, SnapshotStore, StoreEvent } from "../io/stores/index.js";
import { ClientTracker, type TrackedClient } from "./clients.js";
import { isLoopback, type ListenAddress } from "./listen.js";
import { createMetrics, type ServerMetrics } from "./metrics.js";
import { createRouter, InvalidParam, type RouteMatch, type Scope } from "./routes.js";
import { hashToken, type Grant, type Permission } from "./tokens.js";
import { createUiHandler, requestAuthorization, type UiHandler } from "./ui/index.js";

export const DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024;
const MAX_WAIT_SECONDS = 60;
const SSE_HEARTBEAT_MS = 15_000;
const RECONCILE_MS = 5_000;

/**
 * What a slow or hostile client may hold (docs/distribution.md, "Timeouts and caps"). Header and body
 * timeouts apply until a request is complete; a long-poll or event stream, once its request is in, is kept
 * open by its own timer and heartbeat, not by these.
 */
export interface ServerLimits {
  /** Time to receive a request's headers, from the connection or the previous request. */
  headersTimeoutMs: number;
  /** Time to receive a whole request (headers and body). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this. */
  keepAliveTimeoutMs: number;
  /** An open connection that neither sends nor receives for this long is closed (above the longest long-poll). */
  idleTimeoutMs: number;
  maxConnections: number;
  maxConnectionsPerAddress: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 120_000,
  maxConnections: 1024,
  maxConnectionsPerAddress: 128,
};

export type LogFn = (level: "info" | "warn" | "error" | "debug", msg: string, fields?: Record<string, unknown>) => void;

export interface ServerOptions {
  store: SnapshotStore;
  trustedKeys: readonly PublicKey[];
  /** Token hash -> grant; null: no tokens file, everything allowed, loopback only. */
  tokens: Map<string, Grant> | null;
  maxBodyBytes?: number;
  log?: LogFn;
  /** Log every request, reads included (debug); otherwise writes, errors and slow requests only. */
  logRequests?: boolean;
  limits?: Partial<ServerLimits>;
  /** The repository (`--repo`): the dashboard shows its environment tree and schema flags. */
  repoDir?: string | null;
}

export interface RunningServer {
  readonly url: string;
  readonly address: AddressInfo;
  readonly metrics: ServerMetrics;
  /** Stops accepting, answers open long-polls with 304, ends event streams, closes the store. */
  close(): Promise<void>;
  /** Swaps in a re-read tokens file (SIGHUP); auth cannot be turned on or off while running. */
  replaceTokens(tokens: Map<string, Grant>): void;
}

const STATUS: Partial<Record<Code, number>> = {
  unauthenticated: 401,
  "access-denied": 403,
  "version-conflict": 409,
  "invalid-signature": 400,
  "digest-mismatch": 400,
  "invalid-snapshot": 400,
  "payload-too-large": 413,
  "unknown-environment": 404,
  unreachable: 503,
  "push-failed": 503,
  "invalid-argument": 400,
  "store-corrupt": 500,
};

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: Code,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

interface Current {
  head: Head;
  body: Buffer;
  etag: string;
  createdAt: string;
  expiresAt: string;
}

/** A snapshot this server is publishing, with the fields it would otherwise parse the text again for. */
interface LocalText {
  digest: string;
  text: string;
  createdAt: string;
  expiresAt: string;
}

interface EnvState {
  current: Current | null;
  loaded: Promise<void> | null;
  /** Serializes updates so versions are applied in order. */
  chain: Promise<void>;
  waiters: Set<() => void>;
  streams: Set<ServerResponse>;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The versions an `If-None-Match` / `If-Match` names: `"7"`, `W/"7"`, a list, or `*` (-1). */
function parseEtags(value: string | undefined): number[] | null {
  if (value === undefined) return null;
  if (value.trim() === "*") return [-1];
  const out: number[] = [];
  for (const m of value.matchAll(/(?:W\/)?"(\d+)"/g)) out.push(Number(m[1]));
  return out;
}

export function startServer(options: ServerOptions, listen: ListenAddress): Promise<RunningServer> {
  if (options.tokens === null && !isLoopback(listen.host)) {
    return Promise.reject(
      new StrataError(
        "invalid-argument",
        `refusing to listen on ${listen.host} without a tokens file: anyone could publish`,
        {
          hint: "pass --tokens FILE (create tokens with `strata serve token create`), or listen on 127.0.0.1",
        },
      ),
    );
  }
  const app = new Endpoint(options);
  return app.listen(listen);
}

/** One request on its way through a route's handler. */
interface RequestContext {
  req: IncomingMessage;
  res: ServerResponse;
  path: string;
  query: URLSearchParams | null;
  params: Record<string, string>;
  grant: Grant | null;
  /** A long-poll or event stream: left out of the latency histogram and the slow-request log. */
  streaming: boolean;
}

class Endpoint {
  private readonly router = createRouter();
  private readonly store: SnapshotStore;
  private readonly maxBody: number;
  private readonly log: LogFn;
  private readonly envs = new Map<string, EnvState>();
  private readonly clients = new ClientTracker();
  /** Texts this server is publishing, so its own new version is not read back from the store. */
  private readonly localTexts = new Map<string, LocalText>();
  private readonly sockets = new Set<Socket>();
  private readonly perAddress = new Map<string, number>();
  private readonly limits: ServerLimits;
  /** Without tokens (loopback only): the Host values a request may carry, against DNS rebinding. */
  private allowedHosts: Set<string> | null = null;
  private longpolls = 0;
  private sseCount = 0;
  private closing = false;
  private unwatch: () => void = () => undefined;
  private reconcileTimer: NodeJS.Timeout | null = null;
  readonly metrics: ServerMetrics;
  private server: Server | null = null;
  private readonly ui: UiHandler;

  constructor(private readonly options: ServerOptions) {
    this.store = options.store;
    this.maxBody = options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES;
    this.log = options.log ?? (() => undefined);
    this.limits = { ...DEFAULT_LIMITS, ...options.limits };
    this.metrics = createMetrics(
      () => ({ longpoll: this.longpolls, sse: this.sseCount }),
      () => [...this.envs].filter(([, s]) => s.current !== null).map(([e, s]) => [e, s.current!.head.version]),
      () => ({ connections: this.sockets.size, environments: this.envs.size }),
    );
    this.ui = createUiHandler({
      store: this.store,
      trustedKeys: options.trustedKeys,
      tokens: () => this.options.tokens,
      repoDir: options.repoDir ?? null,
      authorize: (req, permission, environment) => this.authorize(req, permission, environment),
    });
  }

  async listen(listen: ListenAddress): Promise<RunningServer> {
    // Subscribe before anything is read, so no version published meanwhile is missed.
    this.unwatch = this.store.watch((e) => this.onStoreEvent(e));
    // Belt and braces: a version whose event was lost, or whose load failed, is picked up here.
    this.reconcileTimer = setInterval(() => void this.reconcile(), RECONCILE_MS);
    this.reconcileTimer.unref();
    const limits = this.limits;
    const server = createServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        // How often the header and request timeouts are checked (Node's default, 30 s, lets slow clients pile up).
        connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
      },
      (req, res) => void this.handle(req, res),
    );
    server.setTimeout(limits.idleTimeoutMs, (socket) => socket.destroy());
    // Without a handler Node answers 408 and leaves the socket to the client, which a slow client never closes.
    server.on("clientError", (e: NodeJS.ErrnoException, socket: Socket) => {
      if (e.code === "ERR_HTTP_REQUEST_TIMEOUT" || e.code === "ECONNRESET" || !socket.writable)
        return void socket.destroy();
      socket.end("HTTP/1.1 400 Bad Request\r\nconnection: close\r\ncontent-length: 0\r\n\r\n");
      socket.destroySoon();
    });
    server.on("connection", (s: Socket) => this.accept(s));
    this.server = server;
    await new Promise<void>((resolve, reject) => {
      server.once("error", (e: NodeJS.ErrnoException) =>
        reject(
          new StrataError(
            "invalid-argument",
            `cannot listen on ${listen.host}:${listen.port}: ${e.code ?? e.message}`,
            { cause: e },
          ),
        ),
      );
      server.listen(listen.port, listen.host, () => resolve());
    });
    const address = server.address() as AddressInfo;
    const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
    const url = `http://${host}:${address.port}`;
    if (this.options.tokens === null) {
      const port = address.port;
      this.allowedHosts = new Set([`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `${host}:${port}`]);
    }
    this.log("info", "listening", {
      url,
      store: this.store.description,
      auth: this.options.tokens !== null,
      trustedKeys: this.options.trustedKeys.map((k) => k.keyid),
      limits: this.limits,
    });
    return {
      url,
      address,
      metrics: this.metrics,
      close: () => this.close(),
      replaceTokens: (tokens) => {
        const current = this.options.tokens;
        if (current === null) throw new StrataError("invalid-argument", "this server was started without --tokens");
        current.clear();
        for (const [k, v] of tokens) current.set(k, v);
      },
    };
  }

  /** Caps connections in total and per client address: over either, the connection is closed at once. */
  private accept(socket: Socket): void {
    const address = socket.remoteAddress ?? "?";
    const mine = this.perAddress.get(address) ?? 0;
    const reason =
      this.sockets.size >= this.limits.maxConnections
        ? "total"
        : mine >= this.limits.maxConnectionsPerAddress
          ? "per-address"
          : null;
    if (reason !== null) {
      this.metrics.refusedConnections.inc({ reason });
      socket.destroy();
      return;
    }
    this.sockets.add(socket);
    this.perAddress.set(address, mine + 1);
    socket.once("close", () => {
      this.sockets.delete(socket);
      const n = (this.perAddress.get(address) ?? 1) - 1;
      if (n <= 0) this.perAddress.delete(address);
      else this.perAddress.set(address, n);
    });
  }

  /**
   * Drops the state of an environment that has nothing published and nobody waiting, so requests for names
   * that were never published leave nothing behind (no memory, no reconcile polling).
   */
  private forgetIfUnused(environment: string, state: EnvState): void {
    // Only this very state: a newer one for the same name may be loading a version published meanwhile.
    if (
      this.envs.get(environment) === state &&
      state.current === null &&
      state.waiters.size === 0 &&
      state.streams.size === 0
    )
      this.envs.delete(environment);
  }

  private state(environment: string): EnvState {
    let s = this.envs.get(environment);
    if (s === undefined)
      this.envs.set(
        environment,
        (s = { current: null, loaded: null, chain: Promise.resolve(), waiters: new Set(), streams: new Set() }),
      );
    return s;
  }

  private async current(environment: string): Promise<Current | null> {
    const s = this.state(environment);
    s.loaded ??= this.enqueue(environment, async () => {
      const head = await this.store.head(environment);
      if (head !== null && (s.current === null || s.current.head.version < head.version))
        s.current = await this.load(environment, head);
    }).catch((e: unknown) => {
      s.loaded = null;
      throw e;
    });
    try {
      await s.loaded;
    } finally {
      if (s.current === null) this.forgetIfUnused(environment, s);
    }
    return s.current;
  }

  private async load(environment: string, head: Head, local: LocalText | null = null): Promise<Current> {
    if (local !== null)
      return {
        head,
        body: Buffer.from(local.text, "utf8"),
        etag: `"${head.version}"`,
        createdAt: local.createdAt,
        expiresAt: local.expiresAt,
      };
    const text = await this.store.read(environment, head.version);
    if (text === null) throw this.corrupt(environment, head.version, `the current version ${head.version} is missing`);
    const snapshot = this.verifyStored(environment, head.version, text);
    if (snapshot.digest !== head.digest)
      throw this.corrupt(
        environment,
        head.version,
        `the head names digest ${head.digest}, the version file has ${snapshot.digest}`,
      );
    return {
      head,
      body: Buffer.from(text, "utf8"),
      etag: `"${head.version}"`,
      createdAt: snapshot.createdAt,
      expiresAt: snapshot.expiresAt,
    };
  }

  /**
   * Every version read from the store is checked before it is served: well-formed, the environment and
   * version it is stored under, its digest, and a signature by a trusted key. Bytes that do not verify are
   * never served (`store-corrupt`, with a log line naming the file or key).
   */
  private verifyStored(environment: string, version: number, text: string): Snapshot {
    let snapshot: Snapshot;
    try {
      snapshot = parseSnapshot(text);
      if (snapshot.environment !== environment || snapshot.version !== version)
        throw new StrataError("invalid-snapshot", `it holds ${snapshot.environment} v${snapshot.version}`);
      verifySnapshot(snapshot, this.options.trustedKeys, encodeSnapshot(snapshot).actualDigest);
    } catch (e) {
      if (!isStrataError(e)) throw e;
      throw this.corrupt(environment, version, e.message);
    }
    return snapshot;
  }

  private corrupt(environment: string, version: number, reason: string): StrataError {
    const location = this.store.locate(environment, version);
    this.log("error", "store-corrupt", { environment, version, file: location, reason });
    return new StrataError(
      "store-corrupt",
      `the store's copy of ${environment} v${version} does not verify (${reason}); it is not served`,
      {
        hint: `restore ${location} from a backup, or publish a new version`,
      },
    );
  }

  private enqueue(environment: string, fn: () => Promise<void>): Promise<void> {
    const s = this.state(environment);
    const run = s.chain.then(fn);
    s.chain = run.catch(() => undefined);
    return run;
  }

  private onStoreEvent(event: StoreEvent): void {
    const { environment, head } = event;
    // Our own publish: its text is at hand (only for exactly this digest: a losing publish has the same key).
    const local = this.localTexts.get(`${environment}@${head.version}`);
    const localText = local !== undefined && local.digest === head.digest ? local : null;
    void this.enqueue(environment, async () => {
      const s = this.state(environment);
      if (s.current !== null && s.current.head.version >= head.version) return;
      s.current = await this.load(environment, head, localText);
      s.loaded ??= Promise.resolve();
      this.metrics.pushToNotify.observe(Math.max(0, Date.now() - Date.parse(head.publishedAt)) / 1000);
      for (const wake of [...s.waiters]) wake();
      const frame = `event: snapshot\nid: ${head.version}\ndata: ${JSON.stringify({ environment, version: head.version, digest: head.digest })}\n\n`;
      for (const res of s.streams) if (!res.writableEnded) res.write(frame);
    }).catch((e: unknown) =>
      this.log("error", "cannot load a new version", {
        environment,
        version: head.version,
        error: (e as Error).message,
      }),
    );
  }

  private async reconcile(): Promise<void> {
    for (const [environment, s] of this.envs) {
      if (s.loaded === null || this.closing) continue;
      const head = await this.store.head(environment).catch(() => null);
      if (head !== null && head.version > (s.current?.head.version ?? 0)) this.onStoreEvent({ environment, head });
    }
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const started = performance.now();
    const url = req.url ?? "/";
    const q = url.indexOf("?");
    const path = q < 0 ? url : url.slice(0, q);
    const query = q < 0 ? null : new URLSearchParams(url.slice(q + 1));
    const method = req.method ?? "GET";
    let route = "unknown";
    let environment: string | null = null;
    let grant: Grant | null = null;
    const ctx: RequestContext = { req, res, path, query, params: {}, grant: null, streaming: false };
    try {
      this.checkHost(req, path);
      let match: RouteMatch;
      try {
        match = this.router.match(method, path);
      } catch (e) {
        if (e instanceof InvalidParam) throw new HttpError(404, "unknown-environment", e.message);
        throw e;
      }
      if (match.kind === "none") throw new HttpError(404, "invalid-argument", `no such resource: ${method} ${path}`);
      if (match.kind === "method") {
        route = match.name;
        throw new HttpError(405, "invalid-argument", `${method} is not allowed here (use ${match.allow.join(", ")})`, {
          allow: match.allow.join(", "),
        });
      }
      route = match.route.name;
      ctx.params = match.params;
      environment = match.params.env ?? null;
      grant = ctx.grant = this.authorizeScope(req, match.route.scope, environment ?? undefined);
      return await this.handlers[`${match.route.method} ${match.route.name}`]!(ctx);
    } catch (e) {
      this.fail(req, res, e);
    } finally {
      const status = res.statusCode;
      this.metrics.requests.inc({ method, route, status: String(status) });
      const ms = performance.now() - started;
      const streaming = ctx.streaming;
      if (!streaming) this.metrics.latency.observe(ms / 1000, { route });
      const write = req.method === "PUT" || status >= 400;
      if (write || this.options.logRequests === true || (!streaming && ms > 1000)) {
        this.log(status >= 500 ? "error" : status >= 400 ? "warn" : write ? "info" : "debug", "request", {
          method: req.method,
          path,
          status,
          ms: Math.round(ms * 10) / 10,
          route,
          environment,
          token: grant?.name ?? null,
          client: req.headers["strata-client"] ?? null,
          remote: (req.socket as typeof req.socket | null)?.remoteAddress ?? null,
        });
      }
    }
  }

  /**
   * The route table's handlers, keyed by method and route name. Each runs after the route's scope is
   * checked, with its path parameters decoded and validated.
   */
  private readonly handlers: Record<string, (ctx: RequestContext) => Promise<void> | void> = {
    "PUT snapshot": ({ req, res, params, grant }) => this.publish(req, res, params.env!, grant),
    "GET snapshot": (ctx) => {
      ctx.streaming = ctx.query?.has("wait") ?? false;
      return this.getCurrent(ctx.req, ctx.res, ctx.params.env!, ctx.query, this.touchClient(ctx));
    },
    "GET version": (ctx) => {
      this.touchClient(ctx);
      return this.getVersion(ctx.res, ctx.params.env!, ctx.params.version!);
    },
    "GET history": async ({ res, params }) =>
      json(res, 200, { schemaVersion: 1, environment: params.env, versions: await this.store.history(params.env!) }),
    "GET events": (ctx) => {
      ctx.streaming = true;
      return this.events(ctx.req, ctx.res, ctx.params.env!, this.touchClient(ctx));
    },
    "GET status": async ({ res, grant }) => json(res, 200, await this.status(grant)),
    "GET audit": async ({ res }) => json(res, 200, { schemaVersion: 1, entries: await this.store.audit() }),
    "* ui": ({ req, res, path, query }) => this.ui.handle(req, res, path, query),
    "GET healthz": ({ res }) => json(res, this.closing ? 503 : 200, { status: this.closing ? "shutting-down" : "ok" }),
    "GET metrics": ({ res }) => {
      const text = this.metrics.render();
      res.writeHead(200, {
        "content-type": "text/plain; version=0.0.4; charset=utf-8",
        "content-length": Buffer.byteLength(text),
      });
      res.end(text);
    },
  };

  /**
   * Called only by handlers of reads of an environment's snapshot or events, after authorization, so a
   * caller can neither fill the table without a token nor move a record to another environment.
   */
  private touchClient(ctx: RequestContext): TrackedClient | null {
    return this.clients.touch(ctx.req.headers["strata-client"] as string | undefined, ctx.params.env!);
  }

  /** The auth check of a route's scope; the dashboard checks its own requests. */
  private authorizeScope(req: IncomingMessage, scope: Scope, environment: string | undefined): Grant | null {
    switch (scope) {
      case "public":
      case "dashboard":
        return null;
      case "token":
        return this.authorize(req, "status");
      case "admin":
        return this.authorize(req, "admin");
      default:
        return this.authorize(req, scope, environment);
    }
  }

  /**
   * DNS rebinding: without tokens the server trusts whoever reaches it, and a web page can reach a loopback
   * listener through the operator's browser under its own host name. Only loopback host names are accepted
   * then; `/healthz` stays open for probes.
   */
  private checkHost(req: IncomingMessage, path: string): void {
    if (this.allowedHosts === null || path === "/healthz") return;
    const host = (req.headers.host ?? "").toLowerCase();
    if (!this.allowedHosts.has(host)) {
      throw new HttpError(
        421,
        "access-denied",
        `Host ${JSON.stringify(host.slice(0, 100))} is not this server: without --tokens only localhost, 127.0.0.1 and [::1] (with the port) are answered`,
      );
    }
  }

  /** "status": any valid token; the answer is filtered to what it may read. */
  private authorize(req: IncomingMessage, permission: Permission | "status", environment?: string): Grant | null {
    const tokens = this.options.tokens;
    if (tokens === null) return null;
    // The dashboard's session cookie counts for reads (GET/HEAD) only.
    const header = requestAuthorization(req);
    const m = header === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(header);
    const grant = m ? tokens.get(hashToken(m[1]!)) : undefined;
    if (grant === undefined)
      throw new HttpError(
        401,
        "unauthenticated",
        header === undefined ? "a token is required (Authorization: Bearer <token>)" : "the token is not valid",
      );
    if (permission !== "status" && !grant.allows(permission, environment)) {
      throw new HttpError(
        403,
        "access-denied",
        `token "${grant.name}" may not ${permission}${environment === undefined ? "" : ` ${environment}`}`,
      );
    }
    return grant;
  }

  private fail(req: IncomingMessage, res: ServerResponse, e: unknown): void {
    let status: number;
    let code: Code;
    let message: string;
    let extra: Record<string, unknown> = {};
    if (e instanceof HttpError) ({ status, code, message, extra } = e);
    else if (isStrataError(e))
      ({ status, code, message } = { status: STATUS[e.code] ?? 500, code: e.code, message: e.message });
    else {
      status = 500;
      code = "internal";
      message = "internal error";
      this.log("error", "internal error", {
        path: req.url,
        error: redact(e instanceof Error ? (e.stack ?? e.message) : String(e)),
      });
    }
    if (res.headersSent) return void res.destroy();
    const headers: Record<string, string> = {};
    if (typeof extra.allow === "string") headers.allow = extra.allow;
    if (status === 401) headers["www-authenticate"] = 'Bearer realm="strata"';
    const { allow: _a, ...body } = extra;
    json(res, status, { error: { code, message: redact(message), ...body } }, headers);
  }

  private async getCurrent(
    req: IncomingMessage,
    res: ServerResponse,
    environment: string,
    query: URLSearchParams | null,
    client: TrackedClient | null,
  ): Promise<void> {
    const state = this.envs.get(environment);
    // The hot path (loaded, no long-poll) stays synchronous.
    let current = state?.loaded !== null && state?.current != null ? state.current : await this.current(environment);
    const header = req.headers["if-none-match"];
    const known = header === undefined || header === current?.etag ? null : parseEtags(header);
    const matches = (c: Current | null): boolean =>
      header !== undefined &&
      (c !== null && header === c.etag
        ? true
        : known !== null && (c === null ? known.includes(0) : known.includes(c.head.version) || known.includes(-1)));
    const waitParam = query?.get("wait") ?? null;
    if (waitParam !== null && (current === null || matches(current))) {
      const seconds = Number(waitParam);
      if (!Number.isFinite(seconds) || seconds < 0)
        throw new HttpError(400, "invalid-argument", "wait must be a number of seconds (at most 60)");
      current = await this.waitForNewer(res, environment, current, Math.min(seconds, MAX_WAIT_SECONDS), client);
      if (res.destroyed) return;
    }
    if (current === null) throw new HttpError(404, "unknown-environment", `nothing is published for ${environment}`);
    if (matches(current)) {
      res.writeHead(304, { etag: current.etag, "cache-control": "no-cache" });
      return void res.end();
    }
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": current.body.length,
      etag: current.etag,
      "cache-control": "no-cache",
    });
    res.end(req.method === "HEAD" ? undefined : current.body);
  }

  /** Resolves with the environment's current snapshot once it is newer than `seen`, or at the timeout. */
  private waitForNewer(
    res: ServerResponse,
    environment: string,
    seen: Current | null,
    seconds: number,
    client: TrackedClient | null,
  ): Promise<Current | null> {
    const s = this.state(environment);
    if (this.closing || seconds === 0) return Promise.resolve(seen);
    return new Promise((resolve) => {
      this.longpolls++;
      if (client) client.connections++;
      let finished = false;
      const done = (): void => {
        if (finished) return;
        finished = true;
        clearTimeout(timer);
        s.waiters.delete(wake);
        res.off("close", done);
        this.longpolls--;
        if (client) client.connections--;
        if (s.current === null) this.forgetIfUnused(environment, s);
        resolve(s.current);
      };
      const wake = (): void => {
        if (this.closing || (s.current?.head.version ?? 0) > (seen?.head.version ?? 0)) done();
      };
      const timer = setTimeout(done, seconds * 1000);
      s.waiters.add(wake);
      // The client went away: stop waiting for it.
      res.once("close", done);
    });
  }

  private async getVersion(res: ServerResponse, environment: string, versionText: string): Promise<void> {
    const version = /^\d{1,15}$/.test(versionText) ? Number(versionText) : NaN;
    const text = Number.isSafeInteger(version) ? await this.store.read(environment, version) : null;
    if (text === null) throw new HttpError(404, "unknown-environment", `${environment} has no version ${versionText}`);
    this.verifyStored(environment, version, text);
    const body = Buffer.from(text, "utf8");
    res.writeHead(200, {
      "content-type": "application/json",
      "content-length": body.length,
      etag: `"${version}"`,
      "cache-control": "public, max-age=31536000, immutable",
    });
    res.end(body);
  }

  private async events(
    req: IncomingMessage,
    res: ServerResponse,
    environment: string,
    client: TrackedClient | null,
  ): Promise<void> {
    const current = await this.current(environment);
    const s = this.state(environment);
    res.writeHead(200, {
      "content-type": "text/event-stream",
      "cache-control": "no-cache",
      connection: "keep-alive",
      "x-accel-buffering": "no",
    });
    res.write("retry: 2000\n\n");
    const lastId = Number(req.headers["last-event-id"] ?? "NaN");
    const frame = (version: number, digest: string): string =>
      `event: snapshot\nid: ${version}\ndata: ${JSON.stringify({ environment, version, digest })}\n\n`;
    if (current !== null) {
      if (Number.isSafeInteger(lastId) && lastId >= 0 && lastId < current.head.version - 1) {
        // Replay what the client missed, from the history, up to what it will get live.
        for (const h of await this.store.history(environment))
          if (h.version > lastId && h.version < current.head.version) res.write(frame(h.version, h.digest));
      }
      if (!(Number.isSafeInteger(lastId) && lastId >= current.head.version))
        res.write(frame(current.head.version, current.head.digest));
    }
    if (this.closing) return void res.end();
    s.streams.add(res);
    this.sseCount++;
    if (client) client.connections++;
    const heartbeat = setInterval(() => {
      if (!res.writableEnded) res.write(": keep-alive\n\n");
    }, SSE_HEARTBEAT_MS);
    heartbeat.unref();
    res.once("close", () => {
      clearInterval(heartbeat);
      s.streams.delete(res);
      this.sseCount--;
      if (client) client.connections--;
      if (s.current === null) this.forgetIfUnused(environment, s);
    });
  }

  private async readBody(req: IncomingMessage): Promise<string> {
    const declared = Number(req.headers["content-length"] ?? "NaN");
    if (declared > this.maxBody)
      throw new HttpError(413, "payload-too-large", `the snapshot is ${declared} bytes; the limit is ${this.maxBody}`);
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of req as AsyncIterable<Buffer>) {
      size += chunk.length;
      if (size > this.maxBody)
        throw new HttpError(413, "payload-too-large", `the snapshot exceeds the limit of ${this.maxBody} bytes`);
      chunks.push(chunk);
    }
    return Buffer.concat(chunks).toString("utf8");
  }

  private async publish(
    req: IncomingMessage,
    res: ServerResponse,
    environment: string,
    grant: Grant | null,
  ): Promise<void> {
    try {
      const ifMatch = req.headers["if-match"];
      if (ifMatch === undefined)
        throw new HttpError(
          428,
          "version-conflict",
          'If-Match is required: the version the snapshot was built on ("0" for the first)',
        );
      const expectedList = parseEtags(ifMatch);
      if (expectedList === null || expectedList.length !== 1 || expectedList[0]! < 0)
        throw new HttpError(400, "invalid-snapshot", `If-Match must be one version, e.g. "7"`);
      const expected = expectedList[0]!;
      const snapshot = parseSnapshot(await this.readBody(req));
      if (snapshot.environment !== environment)
        throw new StrataError(
          "invalid-snapshot",
          `the snapshot is for environment "${snapshot.environment}", not "${environment}"`,
        );
      const { actualDigest, text } = encodeSnapshot(snapshot);
      verifySnapshot(snapshot, this.options.trustedKeys, actualDigest);
      const current = await this.current(environment);
      if ((current?.head.version ?? 0) !== expected) throw this.conflict(environment, expected, current?.head ?? null);
      validateSuccessor(snapshot, environment, current?.head ?? null);
      const action: PublishAction =
        snapshot.rollbackOf !== null
          ? "rollback"
          : current !== null && current.head.contentDigest === snapshot.contentDigest
            ? "refresh"
            : "publish";
      const localKey = `${environment}@${snapshot.version}`;
      const local: LocalText = {
        digest: snapshot.digest,
        text,
        createdAt: snapshot.createdAt,
        expiresAt: snapshot.expiresAt,
      };
      this.localTexts.set(localKey, local);
      const outcome = await this.store
        .publish({ snapshot, text, expected, action, actor: grant?.name ?? null })
        .finally(() => {
          // The store emitted its event (and we captured the text) before publish returned.
          if (this.localTexts.get(localKey) === local) this.localTexts.delete(localKey);
        });
      if (!outcome.ok) throw this.conflict(environment, expected, outcome.current);
      this.metrics.published.inc({ environment, action });
      this.log("info", "published", {
        environment,
        version: snapshot.version,
        digest: snapshot.digest,
        action,
        token: grant?.name ?? null,
        commit: snapshot.source.commit,
        pullRequest: snapshot.source.pullRequest,
        emergency: snapshot.source.emergency,
      });
      json(
        res,
        201,
        { environment, version: snapshot.version, digest: snapshot.digest, action },
        { etag: `"${snapshot.version}"` },
      );
    } catch (e) {
      // Do not leave the client writing into a closed connection: read (and drop) the rest of the body.
      if (!req.complete) {
        res.setHeader("connection", "close");
        req.resume();
      }
      throw e;
    }
  }

  private conflict(environment: string, expected: number, current: Head | null): HttpError {
    return new HttpError(
      409,
      "version-conflict",
      `${environment} is at version ${current?.version ?? 0}, not ${expected}: re-read and rebuild`,
      {
        current: current === null ? null : { version: current.version, digest: current.digest },
      },
    );
  }

  private async status(grant: Grant | null): Promise<unknown> {
    const now = Date.now();
    const environments = [];
    const clients = this.clients.list();
    for (const env of await this.store.environments()) {
      if (grant !== null && !grant.allows("read", env)) continue;
      let c: Current | null;
      try {
        c = await this.current(env);
      } catch (e) {
        // One corrupted (or unreadable) environment is reported as such; every other one is still answered.
        if (!isStrataError(e)) throw e;
        environments.push({ environment: env, error: { code: e.code, message: redact(e.message) } });
        continue;
      }
      if (c === null) continue;
      const running: Record<string, number> = {};
      for (const cl of clients) if (cl.environment === env) running[cl.version] = (running[cl.version] ?? 0) + 1;
      environments.push({
        environment: env,
        version: c.head.version,
        digest: c.head.digest,
        publishedAt: c.head.publishedAt,
        createdAt: c.createdAt,
        expiresAt: c.expiresAt,
        ageSeconds: Math.round((now - Date.parse(c.head.publishedAt)) / 1000),
        expired: Date.parse(c.expiresAt) < now,
        clients: running,
      });
    }
    return {
      schemaVersion: 1,
      store: this.store.description,
      environments,
      clients: clients.filter((c) => grant === null || grant.allows("read", c.environment)),
    };
  }

  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    this.log("info", "shutting down", { longpolls: this.longpolls, streams: this.sseCount });
    const server = this.server;
    const closed = server === null ? Promise.resolve() : new Promise<void>((r) => server.close(() => r()));
    for (const s of this.envs.values()) {
      for (const wake of [...s.waiters]) wake();
      for (const res of s.streams) res.end();
    }
    server?.closeIdleConnections();
    // In-flight publishes finish; anything still open after the grace period is cut.
    const grace = setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, 5_000);
    grace.unref();
    const poll = setInterval(() => server?.closeIdleConnections(), 100);
    await closed;
    clearTimeout(grace);
    clearInterval(poll);
    if (this.reconcileTimer !== null) clearInterval(this.reconcileTimer);
    this.unwatch();
    await this.store.close();
  }
}
