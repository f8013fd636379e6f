/**
 * Listening, and what a slow or hostile client may hold (docs/distribution.md, "Timeouts and caps"): header
 * and request timeouts until a request is complete, an idle timeout, and caps on open connections in total
 * and per client address. A long-poll or event stream, once its request is in, is kept open by its own timer
 * and heartbeat, not by these.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { StrataError } from "../core/findings.js";
import { KEEP_ALIVE_MS } from "../core/protocol/index.js";
import type { ListenAddress } from "./listen.js";
import type { ServerMetrics } from "./metrics.js";

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
  /** How often event streams carry a heartbeat, and connected clients' `lastSeen` is refreshed. */
  heartbeatMs: number;
}

export const DEFAULT_LIMITS: ServerLimits = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 60_000,
  keepAliveTimeoutMs: 5_000,
  idleTimeoutMs: 120_000,
  maxConnections: 1024,
  maxConnectionsPerAddress: 128,
  heartbeatMs: KEEP_ALIVE_MS,
};

/** In-flight requests finish within this after a shutdown starts; what is still open then is cut. */
const SHUTDOWN_GRACE_MS = 5_000;

export class Listener {
  private readonly sockets = new Set<Socket>();
  private readonly perAddress = new Map<string, number>();
  private server: Server | null = null;

  constructor(
    readonly limits: ServerLimits,
    private readonly metrics: ServerMetrics,
    private readonly onRequest: (req: IncomingMessage, res: ServerResponse) => void,
  ) {}

  /** Open TCP connections. */
  get connections(): number {
    return this.sockets.size;
  }

  async listen(listen: ListenAddress): Promise<{ url: string; address: AddressInfo; host: string }> {
    const limits = this.limits;
    const server = createServer(
      {
        headersTimeout: limits.headersTimeoutMs,
        requestTimeout: limits.requestTimeoutMs,
        keepAliveTimeout: limits.keepAliveTimeoutMs,
        // How often the header and request timeouts are checked (Node's default, 30 s, lets slow clients pile up).
        connectionsCheckingInterval: Math.min(1_000, limits.headersTimeoutMs),
      },
      this.onRequest,
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
    return { url: `http://${host}:${address.port}`, address, host };
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
   * Stops accepting; `endOpen` answers what is waiting (long-polls, event streams). In-flight requests finish;
   * anything still open after the grace period is cut.
   */
  async close(endOpen: () => void): Promise<void> {
    const server = this.server;
    const closed = server === null ? Promise.resolve() : new Promise<void>((r) => server.close(() => r()));
    endOpen();
    server?.closeIdleConnections();
    const grace = setTimeout(() => {
      for (const s of this.sockets) s.destroy();
    }, SHUTDOWN_GRACE_MS);
    grace.unref();
    const poll = setInterval(() => server?.closeIdleConnections(), 100);
    await closed;
    clearTimeout(grace);
    clearInterval(poll);
  }
}
