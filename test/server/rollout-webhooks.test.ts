// @module-tag e2e
// The endpoint's change events reach the webhooks an operator configures: a local HTTP receiver records what
// the server sends for a publish, a rollout's start and its rollback, in the recorded shapes
// (test/fixtures/webhooks), with the sink's token, and never a configuration value.
import { createServer, type IncomingMessage, type Server } from "node:http";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { projectRoot } from "../support/cli.js";
import { cleanupTempdirs } from "../support/gitdir.js";
import {
  CANARY,
  EventReader,
  postReports,
  push,
  report,
  startRolloutServer,
  version,
  type RolloutServer,
} from "./rollout-support.js";

const fixtures = join(projectRoot, "test/fixtures/webhooks");
const ajv = new Ajv2020({ allErrors: true, strict: false });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema(JSON.parse(readFileSync(join(fixtures, "shapes.schema.json"), "utf8")), "shapes");
const shapeOf = (def: string) => ajv.getSchema(`shapes#/$defs/${def}`)!;
const recorded = (name: string) =>
  JSON.parse(readFileSync(join(fixtures, name), "utf8")) as { headers: Record<string, string>; body: unknown };

interface Received {
  path: string;
  headers: IncomingMessage["headers"];
  body: Record<string, unknown>;
}

let receiver: Server;
let receiverUrl = "";
const received: Received[] = [];
beforeAll(async () => {
  receiver = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      received.push({
        path: req.url!,
        headers: req.headers,
        body: JSON.parse(Buffer.concat(chunks).toString() || "null") as Record<string, unknown>,
      });
      res.writeHead(200, { "content-type": "application/json" }).end("{}");
    });
  });
  await new Promise<void>((r) => receiver.listen(0, "127.0.0.1", r));
  receiverUrl = `http://127.0.0.1:${(receiver.address() as { port: number }).port}`;
});
afterAll(async () => {
  receiver.closeAllConnections();
  await new Promise<void>((r) => receiver.close(() => r()));
  cleanupTempdirs();
});
let server: RolloutServer | null = null;
let events: EventReader | null = null;
afterEach(async () => {
  events?.close();
  await server?.close();
});

/** The top-level keys of a recorded body, and (for objects) one level below: what a receiver relies on. */
function keysOf(body: unknown): string[] {
  if (body === null || typeof body !== "object") return [];
  return Object.entries(body as Record<string, unknown>)
    .flatMap(([k, v]) =>
      v !== null && typeof v === "object" && !Array.isArray(v) ? [k, ...Object.keys(v).map((c) => `${k}.${c}`)] : [k],
    )
    .sort();
}

describe("change events from the endpoint", () => {
  it("a publish, a rollout's start and its rollback reach CDEvents, Grafana and Datadog sinks", async () => {
    server = await startRolloutServer({
      policy: CANARY,
      webhooks: [
        { name: "cdevents", format: "cdevents", url: `${receiverUrl}/sink` },
        {
          name: "grafana",
          format: "grafana",
          url: `${receiverUrl}/api/annotations`,
          headers: { authorization: "Bearer grafana-token" },
        },
        {
          name: "datadog",
          format: "datadog",
          url: `${receiverUrl}/api/v2/events`,
          headers: { "dd-api-key": "dd-key" },
        },
      ],
    });
    const secretValue = "hunter2-not-for-webhooks";
    events = await EventReader.open(server.url);
    // production has no policy: its second version is published all at once.
    const p1 = version(1, null, { environment: "production" });
    expect((await push(server.url, p1)).status).toBe(201);
    expect(
      (await push(server.url, version(2, p1, { environment: "production", config: { app: { token: secretValue } } })))
        .status,
    ).toBe(201);
    const v1 = version(1, null);
    expect((await push(server.url, v1)).status).toBe(201);
    const v2 = version(2, v1, { config: { app: { name: "demo", release: 2, password: secretValue } } });
    expect((await push(server.url, v2)).status).toBe(201);
    expect(
      (await postReports(server.url, [report("canary-a", 2, 20_000, 2_000), report("stable-a", 1, 100_000, 1_000)]))
        .status,
    ).toBe(202);
    await events.plan((p) => p.phase === "rolled-back");
    // 3 events (published, started, rolled back) × 3 sinks, sent without holding the decisions.
    await vi.waitFor(
      () => {
        if (received.length < 9) throw new Error(`${received.length} of 9 received`);
      },
      { timeout: 30_000, interval: 20 },
    );
    const cdevents = received.filter((r) => r.path === "/sink");
    // A publish and a rollout's start move a running service to a new version (upgraded); the rollback back.
    expect(cdevents.map((r) => r.headers["ce-type"]).sort()).toEqual([
      "dev.cdevents.service.rolledback.0.3.0",
      "dev.cdevents.service.upgraded.0.3.0",
      "dev.cdevents.service.upgraded.0.3.0",
    ]);
    const grafana = received.filter((r) => r.path === "/api/annotations");
    const datadog = received.filter((r) => r.path === "/api/v2/events");
    expect(grafana).toHaveLength(3);
    expect(datadog).toHaveLength(3);
    for (const r of cdevents) expect(shapeOf("cdevents-service")(r.body), JSON.stringify(r.body)).toBe(true);
    for (const r of grafana) {
      expect(shapeOf("grafana-annotation")(r.body)).toBe(true);
      expect(r.headers.authorization).toBe("Bearer grafana-token");
    }
    for (const r of datadog) {
      expect(shapeOf("datadog-change-event")(r.body)).toBe(true);
      expect(r.headers["dd-api-key"]).toBe("dd-key");
    }
    // The rollback's bodies have the recorded shapes' members.
    const rolledBack = cdevents.find((r) => r.headers["ce-type"] === "dev.cdevents.service.rolledback.0.3.0")!;
    expect(keysOf(rolledBack.body)).toEqual(keysOf(recorded("cdevents-service-rolledback.json").body));
    const ddBack = datadog.find((r) => JSON.stringify(r.body).includes("rolled back"))!;
    expect(keysOf(ddBack.body)).toEqual(keysOf(recorded("datadog-change-event.json").body));
    // Key paths, never values.
    const all = JSON.stringify(received.map((r) => r.body));
    expect(all).toContain("app.password");
    expect(all).toContain("app.token");
    expect(all).not.toContain(secretValue);
  });
});
