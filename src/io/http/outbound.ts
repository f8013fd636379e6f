/**
 * What every outbound HTTP call to an operator's service (Prometheus, webhooks) needs, in one place: URLs
 * shown without their secrets, credentials in a URL turned into a header (fetch refuses them), failures
 * described without quoting a URL, and bodies read with a cap.
 */

/** The URL without credentials, query or fragment (which can carry tokens), or null when not http(s). */
export function printableUrl(url: string): string | null {
  try {
    const u = new URL(url);
    if (u.protocol !== "http:" && u.protocol !== "https:") return null;
    return `${u.protocol}//${u.host}${u.pathname}`;
  } catch {
    return null;
  }
}

/** The URL without user and password, and those as a Basic authorization header (null when there are none). */
export function splitCredentials(text: string): { url: string; authorization: string | null } {
  const u = new URL(text);
  if (u.username === "" && u.password === "") return { url: text, authorization: null };
  const pair = `${decodeURIComponent(u.username)}:${decodeURIComponent(u.password)}`;
  u.username = "";
  u.password = "";
  return { url: u.toString(), authorization: `Basic ${Buffer.from(pair).toString("base64")}` };
}

/** Why a fetch failed, in a few words that never quote the URL (it can carry a token). */
export function describeFetchFailure(e: unknown): string {
  if (e instanceof Error && (e.name === "TimeoutError" || e.name === "AbortError")) return "timed out";
  const cause = (e as { cause?: { code?: unknown; message?: unknown } } | null)?.cause;
  if (cause && typeof cause.code === "string") return cause.code;
  if (cause && typeof cause.message === "string" && !cause.message.includes("://")) return cause.message.slice(0, 100);
  return e instanceof Error ? e.name : "failed";
}

export class ResponseTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the answer is larger than ${limit} bytes`);
    this.name = "ResponseTooLarge";
  }
}

/** The body as text, refusing (ResponseTooLarge) more than `limit` bytes without reading them all. */
export async function readCapped(res: Response, limit: number): Promise<string> {
  const length = Number(res.headers.get("content-length"));
  if (Number.isFinite(length) && length > limit) {
    await res.body?.cancel().catch(() => undefined);
    throw new ResponseTooLarge(limit);
  }
  if (!res.body) return "";
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) throw new ResponseTooLarge(limit);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
