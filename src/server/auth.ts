/**
 * Who may do what: the route's scope against the request's token (the `Authorization` header, or on a read
 * the dashboard's session cookie), and, without tokens, the Host rule against DNS rebinding.
 */
import type { IncomingMessage } from "node:http";
import { StrataError } from "../core/findings.js";
import { HttpError } from "./http.js";
import type { Scope } from "./routes.js";
import { hashToken, type Grant, type Permission } from "./tokens.js";
import { requestAuthorization } from "./ui/session.js";

const noop = (): void => {};

export class Auth {
  /** Without tokens (loopback only): the Host values a request may carry, against DNS rebinding. */
  private allowedHosts: Set<string> | null = null;

  /** `tokens`: token hash -> grant, replaced in place on SIGHUP; null: no tokens file, everything allowed. */
  constructor(private readonly tokens: Map<string, Grant> | null) {}

  /** Tokens are configured: every answer that needs one is private to its requester. */
  get enabled(): boolean {
    return this.tokens !== null;
  }

  /** Whether a token (as pasted into the dashboard's login) is one of the server's. */
  knows(token: string): boolean {
    return this.tokens?.has(hashToken(token)) ?? false;
  }

  /** Once listening without tokens: only these Host names are answered. */
  restrictHosts(host: string, port: number): void {
    if (this.tokens === null)
      this.allowedHosts = new Set([`localhost:${port}`, `127.0.0.1:${port}`, `[::1]:${port}`, `${host}:${port}`]);
  }

  /** Swaps in a re-read tokens file (SIGHUP); auth cannot be turned on or off while running. */
  replaceTokens(tokens: Map<string, Grant>): void {
    const current = this.tokens;
    if (current === null) throw new StrataError("invalid-argument", "this server was started without --tokens");
    current.clear();
    for (const [k, v] of tokens) current.set(k, v);
    for (const listener of [...this.replaced]) listener();
  }

  private readonly replaced = new Set<() => void>();

  /**
   * Calls `revoked` when a re-read tokens file no longer lets `req` do what it was authorized for (its token
   * deleted, or the scope taken away): a long-lived request (an event stream) ends then, instead of reading
   * on with a revoked token. Returns the unsubscribe.
   */
  onRevoked(
    req: IncomingMessage,
    scope: Scope,
    environment: string | undefined,
    revoked: () => void,
    /** A service's chain (`…/services/{svc}/events`). */
    service?: string,
  ): () => void {
    // Without tokens nothing is ever revoked: no listener per stream.
    if (this.tokens === null) return noop;
    const check = (): void => {
      try {
        this.forScope(req, scope, environment, service);
      } catch {
        revoked();
      }
    };
    this.replaced.add(check);
    return () => void this.replaced.delete(check);
  }

  /**
   * DNS rebinding: without tokens the server trusts whoever reaches it, and a web page can reach a loopback
   * listener through the operator's browser under its own host name. Only loopback host names are accepted
   * then; `/healthz` stays open for probes.
   */
  checkHost(req: IncomingMessage, path: string): void {
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

  /** The check of a route's scope; null when no token is needed (or none is configured). */
  forScope(
    req: IncomingMessage,
    scope: Scope,
    environment: string | undefined,
    service: string | undefined = undefined,
  ): Grant | null {
    switch (scope) {
      case "public":
        return null;
      case "token":
        return this.authorize(req, "status");
      default:
        return this.authorize(req, scope, environment, service);
    }
  }

  /** "status": any valid token; the answer is filtered to what it may read. */
  authorize(
    req: IncomingMessage,
    permission: Permission | "status",
    environment?: string,
    service?: string,
  ): Grant | null {
    const tokens = this.tokens;
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
    if (permission !== "status" && !grant.allows(permission, environment, service)) {
      const what = environment === undefined ? "" : ` ${environment}${service === undefined ? "" : `/${service}`}`;
      throw new HttpError(403, "access-denied", `token "${grant.name}" may not ${permission}${what}`);
    }
    return grant;
  }
}

/** Whether a grant may read an environment (no grant: no tokens, everything readable). */
export function mayRead(grant: Grant | null, environment: string): boolean {
  return grant === null || grant.allows("read", environment);
}
