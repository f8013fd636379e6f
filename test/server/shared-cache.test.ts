// @module-tag e2e
// A caching reverse proxy in front of the endpoint: nginx with proxy_cache, configured the way an operator
// who wants a cache would (every 200 kept for ten minutes unless the answer says otherwise). With tokens, a
// snapshot read with a token must not become readable without one through the proxy's cache.
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { createToken, readTokens } from "../../src/server/index.js";
import { killOnExit } from "../support/daemons.js";
import { freePort } from "../support/etcd.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { findTool, lacking } from "../support/shared.js";
import { put, startTestServer, type TestServer } from "../support/server.js";
import { makeChain, newKey } from "../support/snapshots.js";

// Debian's nginx-light puts the binary in /usr/sbin, which is not on every user's PATH.
const nginx = findTool("nginx") ?? findTool("/usr/sbin/nginx");
const missing = lacking("the shared-cache test", { tool: nginx ?? "nginx" });

const { key } = newKey();
let server: TestServer | null = null;
let proxy: ChildProcess | null = null;
afterEach(async () => {
  proxy?.kill("SIGKILL");
  proxy = null;
  await server?.server.close();
  server = null;
});
afterAll(() => cleanupTempdirs());

/** nginx with proxy_cache in front of `upstream`, single process (a kill leaves no worker behind). */
async function startProxy(upstream: string): Promise<string> {
  const prefix = tempdir("strata-nginx-");
  const port = await freePort();
  const conf = join(prefix, "nginx.conf");
  writeFileSync(
    conf,
    `daemon off;
master_process off;
pid ${prefix}/nginx.pid;
error_log ${prefix}/error.log warn;
events { worker_connections 64; }
http {
  access_log off;
  client_body_temp_path ${prefix}/body;
  proxy_temp_path ${prefix}/proxy;
  proxy_cache_path ${prefix}/cache levels=1:2 keys_zone=strata:1m;
  server {
    listen 127.0.0.1:${port};
    location / {
      proxy_pass ${upstream};
      proxy_cache strata;
      proxy_cache_valid 200 10m;
      add_header X-Cache-Status $upstream_cache_status always;
    }
  }
}
`,
  );
  const child = spawn(nginx!, ["-p", prefix, "-c", conf], { stdio: ["ignore", "ignore", "pipe"] });
  killOnExit(child);
  proxy = child;
  let err = "";
  child.stderr?.on("data", (d: Buffer) => (err += d.toString()));
  const url = `http://127.0.0.1:${port}`;
  // Ready when it answers through to the endpoint's probe.
  for (;;) {
    if (child.exitCode !== null) throw new Error(`nginx exited: ${err}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) return url;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe.skipIf(missing)("behind nginx proxy_cache", () => {
  let token = "";
  let tokens: Awaited<ReturnType<typeof readTokens>>;
  beforeAll(async () => {
    const file = join(tempdir(), "tokens.json");
    token = (await createToken(file, { scopes: ["read:*", "push:*"], name: "svc" })).token;
    tokens = await readTokens(file);
  });

  it("a snapshot read with a token is not served from the cache to a request without one", async () => {
    server = await startTestServer({ trustedKeys: [key.publicKey], tokens });
    const [v1] = makeChain(key, 1);
    expect((await put(server.url, v1!, '"0"', token)).status).toBe(201);
    const url = await startProxy(server.url);
    for (const path of [
      "/v1/environments/staging/snapshots/1",
      "/v1/environments/staging/snapshot",
      "/v1/environments/staging/history",
    ]) {
      const authorized = await fetch(`${url}${path}`, { headers: { authorization: `Bearer ${token}` } });
      expect(authorized.status, path).toBe(200);
      await authorized.arrayBuffer();
      const anonymous = await fetch(`${url}${path}`);
      expect([anonymous.status, anonymous.headers.get("x-cache-status")], path).toEqual([401, "MISS"]);
      // Nor with a wrong token.
      const wrong = await fetch(`${url}${path}`, { headers: { authorization: "Bearer strata_wrong" } });
      expect(wrong.status, path).toBe(401);
    }
  });

  it("without tokens (everything is public anyway) the proxy may keep an immutable version", async () => {
    server = await startTestServer({ trustedKeys: [key.publicKey] });
    const [v1] = makeChain(key, 1);
    expect((await put(server.url, v1!, '"0"')).status).toBe(201);
    // Without tokens the endpoint answers loopback Host names only: nginx passes on its own.
    const url = await startProxy(server.url);
    const path = "/v1/environments/staging/snapshots/1";
    expect((await fetch(`${url}${path}`)).headers.get("x-cache-status")).toBe("MISS");
    const again = await fetch(`${url}${path}`);
    expect([again.status, again.headers.get("x-cache-status")]).toEqual([200, "HIT"]);
  });
});
