/**
 * The dashboard's login: the token a person pastes into the login form is kept in a cookie, so that the
 * pages (and `EventSource`, which cannot send an Authorization header) can read with it. The cookie is
 * accepted for GET and HEAD only: nothing that changes state can be reached with it, so a cross-site
 * request riding on it cannot do anything (docs/dashboard.md).
 */
import type { IncomingMessage, ServerResponse } from "node:http";
import type { TLSSocket } from "node:tls";
import { SECURITY_HEADERS } from "./assets.js";

const SESSION_COOKIE = "strata_token";
/** A token is `strata_` + 43 base64url characters; anything much longer is not one. */
const MAX_TOKEN_LENGTH = 256;

/** The token of the dashboard's session cookie, for a read (GET/HEAD) without an Authorization header. */
export function readSessionToken(req: IncomingMessage): string | null {
  if (req.method !== "GET" && req.method !== "HEAD") return null;
  const header = req.headers.cookie;
  if (header === undefined) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return value !== "" && value.length <= MAX_TOKEN_LENGTH && /^[\x21-\x7e]+$/.test(value) ? value : null;
  }
  return null;
}

/** `Authorization` as the server's auth reads it: the header, else the session cookie on a read. */
export function requestAuthorization(req: IncomingMessage): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) return header;
  const token = readSessionToken(req);
  return token === null ? undefined : `Bearer ${token}`;
}

/** TLS here, or at a proxy in front that says so (a wrong claim only makes the cookie stricter). */
function isTls(req: IncomingMessage): boolean {
  return (req.socket as Partial<TLSSocket>).encrypted === true || req.headers["x-forwarded-proto"] === "https";
}

export function createSessionCookie(req: IncomingMessage, token: string): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Strict${isTls(req) ? "; Secure" : ""}`;
}

export function clearSessionCookie(req: IncomingMessage): string {
  return `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0${isTls(req) ? "; Secure" : ""}`;
}

/**
 * Login and logout are the dashboard's only POSTs. They change no stored state, but a forged login would sign
 * a person in as someone else, so they must come from a page of this server: the browser's `Origin` (or
 * `Sec-Fetch-Site`) says so.
 */
export function isSameOrigin(req: IncomingMessage): boolean {
  const site = req.headers["sec-fetch-site"];
  if (site !== undefined) return site === "same-origin";
  const origin = req.headers.origin;
  const host = req.headers.host;
  if (origin === undefined || host === undefined) return false;
  return origin === `${isTls(req) ? "https" : "http"}://${host}`;
}

/** Whether a request reads with the session cookie (a browser tab of the dashboard), not a header token. */
export function readsWithSessionCookie(req: IncomingMessage): boolean {
  return req.headers.authorization === undefined && readSessionToken(req) !== null;
}

/**
 * A `/v1` answer to a request read with the session cookie goes to a dashboard tab: it gets the dashboard's
 * security headers, and `Cache-Control: no-store` whatever its route would say (a version's answer is
 * otherwise cacheable for a year), so configuration read through the dashboard is not kept in the browser's
 * disk cache after the person signs out.
 */
export function asDashboardAnswer(res: ServerResponse): void {
  for (const [k, v] of Object.entries(SECURITY_HEADERS)) res.setHeader(k, v);
  res.setHeader("cache-control", "no-store");
  const writeHead = res.writeHead.bind(res) as (status: number, ...rest: unknown[]) => ServerResponse;
  res.writeHead = ((status: number, ...rest: unknown[]) => {
    const headers = rest.at(-1);
    if (headers !== null && typeof headers === "object" && !Array.isArray(headers)) {
      const h = headers as Record<string, unknown>;
      for (const k of Object.keys(h)) if (k.toLowerCase() === "cache-control") delete h[k];
      h["cache-control"] = "no-store";
    }
    return writeHead(status, ...rest);
  }) as ServerResponse["writeHead"];
}
