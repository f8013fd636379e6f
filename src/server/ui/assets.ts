/**
 * The dashboard's files, built by scripts/build-ui.mjs into dist/ui/ and shipped in the package: read once
 * (a few tens of kilobytes), served from memory with the security headers of every dashboard response.
 */
import { promises as fs } from "node:fs";
import type { ServerResponse } from "node:http";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

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
      if (type !== undefined) out.set(name, { body: await fs.readFile(join(dir, name)), type });
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

export function sendAsset(res: ServerResponse, asset: Asset, head: boolean): void {
  res.writeHead(200, {
    ...SECURITY_HEADERS,
    "content-type": asset.type,
    "content-length": asset.body.length,
    // The file names are not content-hashed: revalidate, so an upgraded server is picked up at once.
    "cache-control": "no-cache",
  });
  res.end(head ? undefined : asset.body);
}
