/**
 * The client's requests to the endpoint: its URLs, the headers every request carries (the token and the
 * `Strata-Client` header), deadlines, and what an answer that is not the snapshot says. Response bodies are
 * read here, so limits on what the client reads from the network have one home: a body is read as it streams
 * and dropped once it passes `maxBodyBytes` (refused as `invalid-snapshot`).
 */
import { chainPath, CLIENT_HEADER } from "../core/protocol/index.js";
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

  /** `…/v1/environments/{env}/{path}`, or `…/v1/environments/{env}/services/{svc}/{path}` for a service's chain. */
  url(path: string): string {
    return `${this.settings.endpoint}${chainPath(this.settings.reads)}/${path}`;
  }

  headers(): Record<string, string> {
    const h: Record<string, string> = { [CLIENT_HEADER]: this.identity.clientHeader };
    if (this.settings.token) h.authorization = `Bearer ${this.settings.token}`;
    return h;
  }

  /**
   * A request whose answer, body included, arrives within `timeoutMs` (the body is buffered before it, up to
   * `maxBodyBytes`: a larger one throws `invalid-snapshot`).
   */
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
      const body = res.status === 304 ? null : await readBounded(res, this.settings.maxBodyBytes, url);
      return new Response(body, { status: res.status, headers: res.headers });
    } finally {
      this.lifetime.clear(timer);
      unlink();
    }
  }

  /**
   * POSTs a JSON body (health reports) with `token` in place of the read token; the answer's body is read
   * (at most 64 KiB) within `timeoutMs`.
   */
  async send(url: string, body: string, token: string | undefined, timeoutMs: number): Promise<Response> {
    const controller = new AbortController();
    const unlink = this.lifetime.link(controller);
    const timer = this.lifetime.timer(() => controller.abort(), Math.max(1, timeoutMs));
    try {
      const headers: Record<string, string> = {
        [CLIENT_HEADER]: this.identity.clientHeader,
        "content-type": "application/json",
      };
      if (token) headers.authorization = `Bearer ${token}`;
      const res = await this.settings.fetch(url, { method: "POST", headers, body, signal: controller.signal });
      const answer = await readBounded(res, MAX_ERROR_BODY_BYTES, url);
      return new Response(answer, { status: res.status, headers: res.headers });
    } finally {
      this.lifetime.clear(timer);
      unlink();
    }
  }

  /** A 200 with the snapshot's text, or the error the answer means. */
  async snapshotText(res: Response, url: string): Promise<string> {
    if (res.status !== 200) throw await answerError(res, url);
    return res.text();
  }
}

/** A body of at most `max` bytes, read as it arrives; throws `invalid-snapshot` at the first byte past it. */
async function readBounded(res: Response, max: number, url: string): Promise<Uint8Array | null> {
  if (res.body === null) return null;
  const tooLarge = (): StrataClientError =>
    new StrataClientError(
      "invalid-snapshot",
      `GET ${url}: the answer is larger than maxBodyBytes (${max} bytes); raise maxBodyBytes if the endpoint's --max-body is larger`,
    );
  const declared = Number(res.headers.get("content-length") ?? Number.NaN);
  if (declared > max) {
    await res.body.cancel().catch(() => undefined);
    throw tooLarge();
  }
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > max) {
      await reader.cancel().catch(() => undefined);
      throw tooLarge();
    }
    parts.push(value);
  }
  return Buffer.concat(parts, size);
}

/** The error an answer other than the snapshot means: its status, and the endpoint's error code where it says one. */
export async function answerError(res: Response, url: string): Promise<StrataClientError> {
  const { code, text, services } = await readEndpointError(res);
  if (res.status === 404 && code === "unknown-service")
    return new StrataClientError("unknown-service", `GET ${url}: ${text}`, { services: services ?? [] });
  const clientCode =
    res.status === 401
      ? "unauthenticated"
      : res.status === 403
        ? "access-denied"
        : res.status === 404 && code === "unknown-environment"
          ? "unknown-environment"
          : "unreachable";
  return new StrataClientError(clientCode, `GET ${url}: ${text}`);
}

/**
 * A `404` on a service's chain that means "read the environment's": the environment declares no services
 * (`unknown-service` with an empty `services`), or the endpoint predates services (`not-found`: no such route).
 */
export function declaresNoServices(res: Response, error: StrataClientError): boolean {
  return (
    res.status === 404 &&
    (error.code === "unknown-service"
      ? error.services?.length === 0
      : error.code === "unreachable" && /\b404 not-found\b/.test(error.message))
  );
}

/** The most of an error answer read for its code and message (the endpoint's are a few hundred bytes). */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** The endpoint's error (`404 unknown-environment: …`), or the status alone for anyone else's answer. */
async function readEndpointError(res: Response): Promise<{ code: string | null; text: string; services?: string[] }> {
  try {
    const bytes = await readBounded(res, MAX_ERROR_BODY_BYTES, res.url);
    const body = JSON.parse(Buffer.from(bytes ?? []).toString("utf8")) as {
      error?: { code?: string; message?: string; services?: unknown };
    };
    if (typeof body.error?.code === "string")
      return {
        code: body.error.code,
        text: `${res.status} ${body.error.code}: ${String(body.error.message ?? "")}`.trim(),
        ...(Array.isArray(body.error.services) ? { services: body.error.services.map(String) } : {}),
      };
  } catch {
    // Not the endpoint's JSON error: the status says enough.
  }
  return { code: null, text: `HTTP ${res.status}` };
}
