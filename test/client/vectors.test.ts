// What crosses the SDK's process boundaries, as fixed bytes: the last-known-good cache file (what a deployed
// client wrote yesterday must start a client today; what a client writes is the snapshot exactly as the
// endpoint served it) and the event stream the endpoint writes. The vectors are written out literally (the
// snapshot signed once with a throwaway key whose public half is below): a change to how either side
// writes or reads them breaks this test before it breaks a deployed service.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { createClient, type StrataClient } from "../../src/client/index.js";
import { parsePublicKey } from "../../src/core/snapshot/index.js";
import { freePort } from "../support/etcd.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { put, startTestServer, type TestServer } from "../support/server.js";

const PUBLIC_KEY = "ed25519:Q71Uw3kk5ZqMLuxS1U7HNRPHpEuN4KnKv9UOPzerQeU=";
const CACHE_FILE =
  '{"apiVersion":1,"config":{"app":{"name":"checkout","replicas":3},"database":{"host":"db.internal","pool":{"max":10}}},"contentDigest":"sha256:d9a3e19b37bae2ccfd6e2dfb4123e916f0beeccc99c6c59635556ce6bf8cc3be","createdAt":"2026-01-02T03:04:05.000Z","digest":"sha256:71a3c5085762caf7910e5f2aa9318c9f0c8808abf650e250b487536822fb4fa7","environment":"staging","expiresAt":"2100-01-01T00:00:00.000Z","kind":"strata.snapshot","previous":null,"rollbackOf":null,"secrets":null,"signatures":[{"keyid":"bf318af6d4e2cda96ac77219a669812c4065f6891c8a2ea1d42425393dfbd726","sig":"ohNqbDK08hAPKwmuaKlTr0jQL4psyk4hzRTehBHaCM8p3Vp9KyNjnuCTwpHvdeBjrCR6RjrlV09KUWjLTD9LBA=="}],"source":{"approvedBy":["alice"],"commit":"0123456789abcdef0123456789abcdef01234567","emergency":false,"pullRequest":42,"pushedBy":"ci","repository":"acme/config"},"version":1}';
const DIGEST = "sha256:71a3c5085762caf7910e5f2aa9318c9f0c8808abf650e250b487536822fb4fa7";
/** The first bytes of `GET …/events` for staging at that snapshot. */
const STREAM_START =
  'retry: 2000\n\nevent: snapshot\nid: 1\ndata: {"environment":"staging","version":1,"digest":"sha256:71a3c5085762caf7910e5f2aa9318c9f0c8808abf650e250b487536822fb4fa7"}\n\n';

const clients: StrataClient[] = [];
let server: TestServer | null = null;
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  await server?.server.close();
  server = null;
});
afterAll(() => cleanupTempdirs());

/** A client whose endpoint is a port nobody listens on, starting from a cache file holding `text`. */
async function startOffline(text: string): Promise<{ client: Promise<StrataClient>; cacheFile: string }> {
  const cacheFile = join(tempdir(), "cache.json");
  writeFileSync(cacheFile, text);
  const client = createClient({
    endpoint: `http://127.0.0.1:${await freePort()}`,
    environment: "staging",
    service: "svc",
    trustedKeys: [PUBLIC_KEY],
    cacheFile,
    timeoutMs: 200,
  });
  return { client, cacheFile };
}

describe("the cache file", () => {
  it("these bytes start a client when the endpoint cannot be reached", async () => {
    const started = await startOffline(CACHE_FILE);
    const c = await started.client;
    clients.push(c);
    expect(c.version).toBe(1);
    expect(c.snapshot).toMatchObject({
      digest: DIGEST,
      environment: "staging",
      source: { pullRequest: 42, approvedBy: ["alice"] },
    });
    expect(c.getAll()).toEqual({
      app: { name: "checkout", replicas: 3 },
      database: { host: "db.internal", pool: { max: 10 } },
    });
    // The file is read, not rewritten.
    expect(readFileSync(started.cacheFile, "utf8")).toBe(CACHE_FILE);
  });

  it("one changed byte is refused (digest-mismatch), and without it the client does not start", async () => {
    const err = await (
      await startOffline(CACHE_FILE.replace('"replicas":3', '"replicas":4'))
    ).client.catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "unreachable" });
    expect((err as Error).message).toContain("was rejected (digest-mismatch)");
  });

  it("a client writes these bytes: the snapshot exactly as the endpoint served it", async () => {
    server = await startTestServer({ trustedKeys: [parsePublicKey(PUBLIC_KEY)] });
    expect((await put(server.url, CACHE_FILE, '"0"')).status).toBe(201);
    const cacheFile = join(tempdir(), "cache.json");
    const c = await createClient({
      endpoint: server.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [PUBLIC_KEY],
      cacheFile,
    });
    // close() resolves once the cache file write in flight is done.
    await c.close();
    expect(readFileSync(cacheFile, "utf8")).toBe(CACHE_FILE);
  });
});

describe("the event stream", () => {
  it("opens with these bytes for an environment at this version", async () => {
    server = await startTestServer({ trustedKeys: [parsePublicKey(PUBLIC_KEY)] });
    expect((await put(server.url, CACHE_FILE, '"0"')).status).toBe(201);
    const controller = new AbortController();
    const res = await fetch(`${server.url}/v1/environments/staging/events`, { signal: controller.signal });
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (text.length < STREAM_START.length) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    controller.abort();
    expect(text).toBe(STREAM_START);
  });
});
