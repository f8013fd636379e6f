/**
 * The dashboard's files, built by scripts/build-ui.mjs into dist/ui/ and shipped in the package: read once
 * (a few tens of kilobytes), compressed once (brotli and gzip), served from memory with the security headers
 * of every dashboard response, an ETag (the content's SHA-256) and `304` to a matching `If-None-Match`.
 */
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import type { IncomingMessage, ServerResponse } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { brotliCompressSync, constants as zlib, gzipSync } from "node:zlib";

/** Compiled to dist/server/ui/, next to dist/ui/; run from src/ (tests), the build is in dist/ui/ too. */
const ASSETS_DIRS = [
  fileURLToPath(new URL("../../ui/", import.meta.url)),
  fileURLToPath(new URL("../../../dist/ui/", import.meta.url)),
];

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".map": "application/json",
};

/**
 * No inline script or style anywhere (the bundle sets styles through the CSSOM only), no framing, no
 * plugins, and forms post to this server only.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' data:",
  "connect-src 'self'",
  "font-src 'self'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join("; ");

export const SECURITY_HEADERS: Readonly<Record<string, string>> = {
  "content-security-policy": CONTENT_SECURITY_POLICY,
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
};

export interface Asset {
  body: Buffer;
  type: string;
  /** The body's SHA-256, quoted: the same bytes under every encoding (so the same file, whatever was sent). */
  etag: string;
  /** The body compressed, when that makes it smaller. */
  br: Buffer | null;
  gzip: Buffer | null;
}

/** Compressed once at load, at the best settings: the files are small and never change while running. */
function compressed(body: Buffer): Pick<Asset, "br" | "gzip"> {
  const br = brotliCompressSync(body, {
    params: { [zlib.BROTLI_PARAM_QUALITY]: 11, [zlib.BROTLI_PARAM_SIZE_HINT]: body.length },
  });
  const gzip = gzipSync(body, { level: 9 });
  return { br: br.length < body.length ? br : null, gzip: gzip.length < body.length ? gzip : null };
}

/** The encodings `Accept-Encoding` accepts (q > 0), `*` standing for any not named. */
export function acceptedEncodings(header: string | string[] | undefined): Set<string> {
  const out = new Set<string>();
  const named = new Set<string>();
  let star = false;
  for (const part of (Array.isArray(header) ? header.join(",") : (header ?? "")).split(",")) {
    const [name = "", ...params] = part.trim().toLowerCase().split(";");
    if (name === "") continue;
    const q = params.map((p) => /^\s*q=([\d.]+)\s*$/.exec(p)).find((m) => m !== null);
    const ok = q === undefined || Number(q![1]) > 0;
    if (name === "*") star = ok;
    else {
      named.add(name);
      if (ok) out.add(name);
    }
  }
  if (star) for (const e of ["br", "gzip"]) if (!named.has(e)) out.add(e);
  return out;
}

/** Whether `If-None-Match` names this ETag (or `*`); weak forms compare equal, as RFC 9110 says for GET. */
function notModified(header: string | undefined, etag: string): boolean {
  if (header === undefined) return false;
  return header.split(",").some((t) => {
    const tag = t.trim().replace(/^W\//, "");
    return tag === "*" || tag === etag;
  });
}

let cache: Promise<Map<string, Asset>> | null = null;

async function loadAssets(): Promise<Map<string, Asset>> {
  const out = new Map<string, Asset>();
  for (const dir of ASSETS_DIRS) {
    const names = await fs.readdir(dir).catch(() => null);
    if (names === null || !names.includes("index.html")) continue;
    for (const name of names) {
      const dot = name.lastIndexOf(".");
      const type = TYPES[dot < 0 ? "" : name.slice(dot)];
      if (type === undefined) continue;
      const body = await fs.readFile(join(dir, name));
      const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 27)}"`;
      out.set(name, { body, type, etag, ...compressed(body) });
    }
    break;
  }
  return out;
}

/** A built file by its name (`app.js`), or null; `index.html` for the app's own paths. */
export async function findAsset(name: string): Promise<Asset | null> {
  cache ??= loadAssets().catch((e: unknown) => {
    cache = null;
    throw e;
  });
  const assets = await cache;
  // Not built yet: look again next time rather than keep answering "not built".
  if (assets.size === 0) cache = null;
  return assets.get(name) ?? null;
}

/** `Vary` with `Accept-Encoding` added to what the dispatch already set (`Authorization, Cookie` with tokens). */
export function varyWithEncoding(res: ServerResponse): string {
  const before = res.getHeader("vary");
  return before === undefined ? "Accept-Encoding" : `${String(before)}, Accept-Encoding`;
}

export function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset, head: boolean): void {
  const common = {
    ...SECURITY_HEADERS,
    etag: asset.etag,
    vary: varyWithEncoding(res),
    // The file names are not content-hashed: revalidate (a 304 costs a few bytes), so an upgraded server is
    // picked up at once.
    "cache-control": "no-cache",
  };
  if (notModified(req.headers["if-none-match"], asset.etag)) {
    res.writeHead(304, common);
    return void res.end();
  }
  const encodings = acceptedEncodings(req.headers["accept-encoding"]);
  const [encoding, body] =
    asset.br !== null && encodings.has("br")
      ? ["br", asset.br]
      : asset.gzip !== null && encodings.has("gzip")
        ? ["gzip", asset.gzip]
        : [null, asset.body];
  res.writeHead(200, {
    ...common,
    "content-type": asset.type,
    "content-length": body.length,
    ...(encoding === null ? {} : { "content-encoding": encoding }),
  });
  res.end(head ? undefined : body);
}
