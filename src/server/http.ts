/** What every handler of the endpoint answers with: JSON, errors with their code and status, conditionals. */
import type { IncomingMessage, ServerResponse } from "node:http";
import { HTTP_ERRORS, type HttpErrorCode } from "../core/protocol/index.js";

/** An answer other than the code's usual status (`HTTP_ERRORS`), or with extra members beside the message. */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: HttpErrorCode,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

/** The usual status of an error code; 500 for a code the endpoint never sends (a bug). */
export function statusOf(code: string): number {
  return Object.hasOwn(HTTP_ERRORS, code) ? HTTP_ERRORS[code as HttpErrorCode] : 500;
}

export function sendJson(
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { "content-type": "application/json", "content-length": Buffer.byteLength(text), ...headers });
  res.end(text);
}

/** The versions an `If-None-Match` / `If-Match` names: `"7"`, `W/"7"`, a list, or `*` (-1). */
export function parseEtags(value: string | undefined): number[] | null {
  if (value === undefined) return null;
  if (value.trim() === "*") return [-1];
  const out: number[] = [];
  for (const m of value.matchAll(/(?:W\/)?"(\d+)"/g)) out.push(Number(m[1]));
  return out;
}

/** The request body as text, refused with `413 payload-too-large` by its declared length or as it streams. */
export async function readBody(req: IncomingMessage, maxBytes: number, what: string): Promise<string> {
  const declared = Number(req.headers["content-length"] ?? "NaN");
  if (declared > maxBytes)
    throw new HttpError(413, "payload-too-large", `${what} is ${declared} bytes; the limit is ${maxBytes}`);
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > maxBytes)
      throw new HttpError(413, "payload-too-large", `${what} exceeds the limit of ${maxBytes} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString("utf8");
}
