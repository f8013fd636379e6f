/**
 * The client's requests to the endpoint: its URLs, the headers every request carries (the token and the
 * `Strata-Client` header), deadlines, and what an answer that is not the snapshot says. Response bodies are
 * read here, so limits on what the client reads from the network have one home.
 */
import { CLIENT_HEADER } from "../core/protocol/index.js";
import { StrataClientError } from "./errors.js";
import type { Lifetime } from "./lifetime.js";
import type { Settings } from "./options.js";

/** Why a request failed, for the `reconnect` event and the `unreachable` error. */
export function describeFailure(e: unknown): string {
  if (e instanceof StrataClientError) return e.message;
  const err = e as Error & { cause?: { code?: string; message?: string } };
  if (err.name === "AbortError" || err.name === "TimeoutError") return "timed out";
  const cause = err.cause?.code ?? err.cause?.message;
  return cause ? `${err.message} (${cause})` : err.message;
}

export class Connection {
  constructor(
    private readonly settings: Settings,
    private readonly lifetime: Lifetime,
    /** Says the `Strata-Client` header as it is now (the version in use changes it): the accepted state. */
    private readonly identity: { readonly clientHeader: string },
  ) {}

  /** `…/v1/environments/{env}/{path}`. */
  url(path: string): string {
    return `${this.settings.endpoint}/v1/environments/${encodeURIComponent(this.settings.environment)}/${path}`;
  }

  headers(): Record<string, string> {
    const h: Record<string, string> = { [CLIENT_HEADER]: this.identity.clientHeader };
    if (this.settings.token) h.authorization = `Bearer ${this.settings.token}`;
    return h;
  }

  /** A request whose answer, body included, arrives within `timeoutMs` (the body is buffered before it). */
  async request(url: string, extra: Record<string, string>, timeoutMs: number): Promise<Response> {
    const controller = new AbortController();
    const unlink = this.lifetime.link(controller);
    const timer = this.lifetime.timer(() => controller.abort(), Math.max(1, timeoutMs));
    try {
      const res = await this.settings.fetch(url, {
        headers: { ...this.headers(), ...extra },
        signal: controller.signal,
      });
      // The body is read by the caller within the same deadline: buffer it before the timer goes.
      const body = await res.arrayBuffer();
      return new Response(res.status === 304 ? null : body, { status: res.status, headers: res.headers });
    } finally {
      this.lifetime.clear(timer);
      unlink();
    }
  }

  /** A 200 with the snapshot's text, or the error the answer means. */
  async snapshotText(res: Response, url: string): Promise<string> {
    if (res.status !== 200)
      throw new StrataClientError(statusCode(res.status), `GET ${url}: ${await describeResponse(res)}`);
    return res.text();
  }
}

/** The client error an HTTP status means. */
export function statusCode(status: number): "unauthenticated" | "access-denied" | "unreachable" {
  return status === 401 ? "unauthenticated" : status === 403 ? "access-denied" : "unreachable";
}

/** The endpoint's error (`404 unknown-environment: …`), or the status alone for anyone else's answer. */
export async function describeResponse(res: Response): Promise<string> {
  try {
    const body = (await res.json()) as { error?: { code?: string; message?: string } };
    if (body.error?.code) return `${res.status} ${body.error.code}: ${body.error.message ?? ""}`.trim();
  } catch {
    // Not the endpoint's JSON error: the status says enough.
  }
  return `HTTP ${res.status}`;
}
