// @module-tag e2e
// A snapshot event carries the version's signed bytes when they are small and the stream asked for them
// (`?snapshot=inline`, as the SDK does): the client verifies them exactly as the bytes of
// `GET …/snapshots/{version}` and does not fetch; a larger version is announced only and fetched. Against the real `strata serve` (its frames, its request counter) and, for bytes the real one never
// sends (an altered snapshot inside an event), a local endpoint that writes the stream a test gives it.
import { afterEach, describe, expect, it } from "vitest";
import { StrataClient, StrataClientError, type ClientOptions } from "../../src/client/index.js";
import { EMBEDDED_SNAPSHOT_MAX_BYTES, formatSnapshotEvent } from "../../src/core/protocol/index.js";
import { serializeSnapshot, type Snapshot } from "../../src/core/snapshot/index.js";
import { readEvents } from "../support/server.js";
import { newKey } from "../support/snapshots.js";
import { openEventStream, sendJson, sendText, startHostileEndpoint } from "./hostile-endpoint.js";
import { signSnapshot, startEndpoint, testBackoff, waitFor, type Endpoint } from "./support.js";

const endpoints: Endpoint[] = [];
const clients: StrataClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const e of endpoints.splice(0)) await e.stop();
});

async function client(options: ClientOptions): Promise<{ c: StrataClient; errors: StrataClientError[] }> {
  const c = new StrataClient({ backoff: testBackoff, timeoutMs: 60_000, transport: "events", ...options });
  clients.push(c);
  const errors: StrataClientError[] = [];
  c.on("error", (e) => errors.push(e));
  await c.ready();
  return { c, errors };
}

/** `GET …/snapshots/{version}` answers counted by the server (its `version` route), any status. */
async function versionFetches(ep: Endpoint): Promise<number> {
  const text = await (await fetch(`${ep.url}/metrics`)).text();
  let n = 0;
  for (const m of text.matchAll(/^strata_http_requests_total\{[^}]*route="version"[^}]*\} (\d+)$/gm)) n += Number(m[1]);
  return n;
}

/** The first event of staging's stream, opened with `query`. */
async function firstEvent(ep: Endpoint, query: string): Promise<{ event: string; id: string; data: string }> {
  const reading = new AbortController();
  const res = await fetch(`${ep.url}/v1/environments/staging/events${query}`, { signal: reading.signal });
  const [first] = await readEvents(res, (e) => e.length >= 1);
  reading.abort();
  return first!;
}

/** A config whose snapshot is about `bytes` long. */
function sized(bytes: number, tag: number): Record<string, Record<string, string>> {
  return { blob: { tag: String(tag), fill: "x".repeat(bytes) } };
}

describe("the endpoint's snapshot event", () => {
  it("carries a small current snapshot, the exact bytes GET …/snapshots/{v} answers; the client applies it without fetching", async () => {
    const ep = await startEndpoint();
    endpoints.push(ep);
    await ep.publish(sized(100, 1));
    const { c, errors } = await client({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [ep.publicKey],
    });
    // The stream as the SDK opens it (`?snapshot=inline`): the current version's frame carries the served bytes.
    const first = await firstEvent(ep, "?snapshot=inline");
    const served = await (await fetch(`${ep.url}/v1/environments/staging/snapshots/1`)).text();
    expect(first.data).toBe(
      formatSnapshotEvent({
        environment: "staging",
        version: 1,
        digest: ep.published.get("staging")![0]!.digest,
        snapshot: served,
      })
        .split("\n")[2]!
        .slice("data: ".length),
    );

    // A reader that does not ask (a dashboard, curl) gets the short frame.
    expect(JSON.parse((await firstEvent(ep, "")).data)).toEqual({
      environment: "staging",
      version: 1,
      digest: ep.published.get("staging")![0]!.digest,
    });

    const fetchesBefore = await versionFetches(ep);
    await ep.publish(sized(100, 2));
    await waitFor(() => c.version === 2, "v2 from the event");
    expect(c.get("blob.tag")).toBe("2");
    // The client then reports its version with a conditional GET of …/snapshot (not …/snapshots/2).
    expect(await versionFetches(ep)).toBe(fetchesBefore);
    expect(errors).toEqual([]);
  });

  it("announces a snapshot larger than the bound only: the client fetches it", async () => {
    const ep = await startEndpoint();
    endpoints.push(ep);
    await ep.publish(sized(100, 1));
    const { c } = await client({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [ep.publicKey],
    });
    const fetchesBefore = await versionFetches(ep);
    await ep.publish(sized(EMBEDDED_SNAPSHOT_MAX_BYTES + 1, 2));
    await waitFor(() => c.version === 2, "v2 fetched");
    expect(await versionFetches(ep)).toBe(fetchesBefore + 1);

    const frame = await firstEvent(ep, "?snapshot=inline");
    expect(frame.id).toBe("2");
    expect(JSON.parse(frame.data)).toEqual({
      environment: "staging",
      version: 2,
      digest: ep.published.get("staging")![1]!.digest,
    });
  });
});

describe("a snapshot inside an event is trusted no more than a fetched one", () => {
  const base = { app: { name: "demo", replicas: 2 } };

  /**
   * An endpoint that serves v1, announces `v2` on the stream (inside the event, or announced only and served
   * from …/snapshots/2), and counts the fetches of v2.
   */
  async function endpointFor(v1: Snapshot, v2Text: string, v2: Snapshot, carry: boolean) {
    const ep = await startHostileEndpoint((req, res, path) => {
      if (path.endsWith("/events")) {
        openEventStream(res);
        return void res.write(
          formatSnapshotEvent({
            environment: "staging",
            version: 1,
            digest: v1.digest,
            snapshot: serializeSnapshot(v1),
          }),
        );
      }
      if (path.endsWith("/snapshot")) {
        if (req.headers["if-none-match"] !== undefined) return void res.writeHead(304).end();
        return sendText(res, serializeSnapshot(v1));
      }
      if (path.endsWith("/snapshots/2")) return sendText(res, v2Text);
      sendJson(res, 404, { error: { code: "not-found", message: "no such version" } });
    });
    const announce = (): void =>
      void ep.streams.at(-1)!.write(
        formatSnapshotEvent({
          environment: "staging",
          version: 2,
          digest: v2.digest,
          ...(carry ? { snapshot: v2Text } : {}),
        }),
      );
    return { ep, announce };
  }

  it("one byte altered inside the event: refused with the same code and reason as the same bytes fetched; the one in use stays", async () => {
    const { key } = newKey();
    const v1 = signSnapshot(key, { environment: "staging", version: 1, previous: null, config: base });
    const v2 = signSnapshot(key, {
      environment: "staging",
      version: 2,
      previous: v1.digest,
      config: { app: { name: "demo", replicas: 5 } },
    });
    const altered = serializeSnapshot(v2).replace('"replicas":5', '"replicas":6');
    expect(altered).not.toBe(serializeSnapshot(v2));
    const outcomes = [];
    for (const carry of [true, false]) {
      const { ep, announce } = await endpointFor(v1, altered, v2, carry);
      const { c, errors } = await client({
        endpoint: ep.url,
        environment: "staging",
        service: "svc",
        trustedKeys: [key.publicKey.text],
      });
      await waitFor(() => ep.streams.at(-1), "the event stream");
      announce();
      const refusal = await waitFor(() => errors[0], "the refusal");
      outcomes.push({
        carry,
        code: refusal.code,
        version: c.version,
        replicas: c.get("app.replicas"),
        fetched: ep.requests.filter((r) => r.path.endsWith("/snapshots/2")).length,
      });
    }
    expect(outcomes).toEqual([
      { carry: true, code: "digest-mismatch", version: 1, replicas: 2, fetched: 0 },
      { carry: false, code: "digest-mismatch", version: 1, replicas: 2, fetched: 1 },
    ]);
  });

  it("signed by a key the client does not trust inside the event: invalid-signature, as fetched", async () => {
    const { key } = newKey();
    const other = newKey().key;
    const v1 = signSnapshot(key, { environment: "staging", version: 1, previous: null, config: base });
    const forged = signSnapshot(other, { environment: "staging", version: 2, previous: v1.digest, config: base });
    const { ep, announce } = await endpointFor(v1, serializeSnapshot(forged), forged, true);
    const { c, errors } = await client({
      endpoint: ep.url,
      environment: "staging",
      service: "svc",
      trustedKeys: [key.publicKey.text],
    });
    await waitFor(() => ep.streams.at(-1), "the event stream");
    announce();
    expect((await waitFor(() => errors[0], "the refusal")).code).toBe("invalid-signature");
    expect(c.version).toBe(1);
  });
});
