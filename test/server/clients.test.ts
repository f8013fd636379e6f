// @module-tag e2e
// The fleet records the endpoint keeps from the Strata-Client header, against the real `strata serve` (the
// built CLI) on a file store: what the SDK sends reaches `/v1/status` intact.
import { afterEach, describe, expect, it } from "vitest";
import { createClient, type StrataClient } from "../../src/client/index.js";
import type { StatusDocument } from "../../src/core/protocol/index.js";
import { startEndpoint, type Endpoint } from "../client/support.js";

const endpoints: Endpoint[] = [];
const clients: StrataClient<Record<string, unknown>>[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) await c.close();
  for (const e of endpoints.splice(0)) await e.stop();
});

async function endpoint(): Promise<Endpoint> {
  const ep = await startEndpoint();
  endpoints.push(ep);
  return ep;
}

async function status(url: string): Promise<StatusDocument> {
  const res = await fetch(`${url}/v1/status`);
  expect(res.status).toBe(200);
  return (await res.json()) as StatusDocument;
}

describe("client names", () => {
  it("an SDK named beyond Latin-1 (東京, zürich) reaches /v1/status intact", async () => {
    const ep = await endpoint();
    await ep.publish({ app: { name: "x" } });
    const c = await createClient({
      endpoint: ep.url,
      environment: "staging",
      service: "東京",
      instance: "zürich-😀",
      trustedKeys: [ep.publicKey],
    });
    clients.push(c);
    expect(c.version).toBe(1);
    const doc = await status(ep.url);
    expect(doc.clients).toEqual([
      expect.objectContaining({ environment: "staging", service: "東京", instance: "zürich-😀", version: 1, kind: "sdk" }),
    ]);
  });
});
