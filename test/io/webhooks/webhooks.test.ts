// Change events to webhooks, against a local HTTP receiver: the three shapes (recorded under
// test/fixtures/webhooks/), retries with backoff, and no configuration value anywhere.
import { readFileSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { join } from "node:path";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  changedKeyPaths,
  createChangeEvent,
  rolloutEvent,
  type ChangeEvent,
  type RolloutState,
} from "../../../src/core/rollout/index.js";
import {
  deliverChangeEvent,
  parseRetryAfter,
  sendChangeEvent,
  type WebhookSink,
} from "../../../src/io/webhooks/deliver.js";
import { cdeventsPredicate, configPurl } from "../../../src/io/webhooks/formats.js";
import { projectRoot } from "../../support/cli.js";

const fixtures = join(projectRoot, "test/fixtures/webhooks");
const fixture = (name: string) =>
  JSON.parse(readFileSync(join(fixtures, name), "utf8")) as { headers: Record<string, string>; body: unknown };
const ajv = new Ajv2020({ allErrors: true, strict: false });
(addFormats as unknown as (a: Ajv2020) => void)(ajv);
ajv.addSchema(JSON.parse(readFileSync(join(fixtures, "shapes.schema.json"), "utf8")), "shapes");
const shapeOf = (def: string) => ajv.getSchema(`shapes#/$defs/${def}`)!;

const event: ChangeEvent = createChangeEvent({
  kind: "rollout-rolled-back",
  time: Date.parse("2026-03-02T10:01:30Z"),
  environment: "production",
  service: "checkout",
  version: { version: 41, digest: `sha256:${"a".repeat(64)}` },
  previous: { version: 42, digest: `sha256:${"b".repeat(64)}` },
  rollout: { id: "production/checkout@v42.p7", planVersion: 8, basisPoints: 0 },
  keys: ["payments.timeout_ms", "payments.retry.max"],
  actor: null,
  reason:
    "gate error-rate: error rate 6.02% vs 1.01% (+5.01 points, interval +3.1 to +6.92; threshold +0.5): above the threshold",
  source: { repository: "acme/config", commit: "0123456789abcdef0123456789abcdef01234567", pullRequest: 118 },
});

interface Received {
  method: string;
  url: string;
  headers: IncomingMessage["headers"];
  body: unknown;
}

/** A local receiver: records every request and answers with the next scripted response (default 200). */
class Receiver {
  readonly requests: Received[] = [];
  script: ((res: ServerResponse) => void)[] = [];
  private server!: Server;
  url = "";
  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on("data", (c: Buffer) => chunks.push(c));
      req.on("end", () => {
        this.requests.push({
          method: req.method!,
          url: req.url!,
          headers: req.headers,
          body: JSON.parse(Buffer.concat(chunks).toString() || "null"),
        });
        const next = this.script.shift();
        if (next) next(res);
        else res.writeHead(200, { "content-type": "application/json" }).end("{}");
      });
    });
    await new Promise<void>((r) => this.server.listen(0, "127.0.0.1", r));
    this.url = `http://127.0.0.1:${(this.server.address() as { port: number }).port}`;
  }
  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((r) => this.server.close(() => r()));
  }
}

/** A port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, "127.0.0.1", r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

const noWait = { sleep: async () => undefined, random: () => 1 };

describe("change events on the wire", () => {
  const receiver = new Receiver();
  beforeAll(() => receiver.start());
  afterAll(() => receiver.close());

  it.each([
    ["cdevents", "cdevents-service-rolledback.json", "cdevents-service", "/sink"],
    ["grafana", "grafana-annotation.json", "grafana-annotation", "/api/annotations"],
    ["datadog", "datadog-change-event.json", "datadog-change-event", "/api/v2/events"],
  ] as const)(
    "%s: the recorded shape, valid against the format's documented fields, with the sink's credentials",
    async (format, file, def, path) => {
      const sink: WebhookSink = {
        name: format,
        format,
        url: `${receiver.url}${path}`,
        source: "/strata/production",
        dashboardUID: "cfg-rollouts",
        headers: format === "datadog" ? { "DD-API-KEY": "dd-secret-key" } : { authorization: "Bearer glsa_secret" },
      };
      receiver.requests.length = 0;
      const result = await deliverChangeEvent(sink, event, noWait);
      expect(result).toEqual({ sink: format, ok: true, skipped: false, attempts: 1, status: 200, error: null });
      expect(JSON.stringify(result)).not.toMatch(/secret/);
      const [req] = receiver.requests;
      const recorded = fixture(file);
      expect(req!.method).toBe("POST");
      expect(req!.url).toBe(path);
      expect(req!.body).toEqual(recorded.body);
      for (const [k, v] of Object.entries(recorded.headers)) expect(req!.headers[k]).toBe(v);
      expect(req!.headers[format === "datadog" ? "dd-api-key" : "authorization"]).toMatch(/secret/);
      const validate = shapeOf(def);
      expect(validate(req!.body), JSON.stringify(validate.errors)).toBe(true);
    },
  );

  it("maps strata's events to CDEvents predicates; a pause has none and is skipped for CDEvents only", async () => {
    const state: RolloutState = {
      rolloutId: "production@v42.p7",
      environment: "production",
      service: null,
      stable: event.previous!,
      candidate: { version: 42, digest: `sha256:${"b".repeat(64)}` },
      phase: "paused",
      step: 0,
      percent: 500,
      startedAt: 0,
      stepStartedAt: 0,
      reason: "paused by alice",
    };
    const paused = rolloutEvent("rollout-paused", state, {
      time: Date.parse("2026-03-02T10:00:00Z"),
      planVersion: 8,
      actor: "alice",
    });
    expect(cdeventsPredicate(paused)).toBeNull();
    receiver.requests.length = 0;
    const results = await sendChangeEvent(
      [
        { name: "cd", format: "cdevents", url: `${receiver.url}/sink` },
        { name: "grafana", format: "grafana", url: `${receiver.url}/api/annotations` },
      ],
      paused,
      noWait,
    );
    expect(results.map((r) => [r.sink, r.ok, r.skipped])).toEqual([
      ["cd", true, true],
      ["grafana", true, false],
    ]);
    expect(receiver.requests.map((r) => r.url)).toEqual(["/api/annotations"]);
    const first = createChangeEvent({
      kind: "published",
      time: 0,
      environment: "staging",
      version: { version: 1, digest: event.version.digest },
    });
    expect(cdeventsPredicate(first)).toBe("deployed");
    expect(cdeventsPredicate({ ...first, previous: event.previous })).toBe("upgraded");
    expect(cdeventsPredicate(rolloutEvent("rollout-advanced", state, { time: 0, planVersion: 9 }))).toBe("upgraded");
    expect(configPurl(first)).toBe(`pkg:generic/strata-config/staging@1?checksum=sha256%3A${"a".repeat(64)}`);
  });
});

describe("delivery with retries", () => {
  const receiver = new Receiver();
  beforeAll(() => receiver.start());
  afterAll(() => receiver.close());
  const sink = (): WebhookSink => ({
    name: "grafana",
    format: "grafana",
    url: `${receiver.url}/api/annotations?token=abc123`,
    headers: { authorization: "Bearer glsa_secret" },
  });

  it("retries 5xx, 429 and 408 with growing, jittered waits, honouring Retry-After, and then delivers", async () => {
    const waits: number[] = [];
    receiver.requests.length = 0;
    receiver.script = [
      (res) => res.writeHead(503).end(),
      (res) => res.writeHead(429, { "retry-after": "7" }).end(),
      (res) => res.writeHead(408).end(),
    ];
    const r = await deliverChangeEvent(sink(), event, {
      sleep: async (ms) => void waits.push(ms),
      random: () => 0.5,
      baseDelayMs: 100,
      maxDelayMs: 30_000,
    });
    expect(r).toMatchObject({ ok: true, attempts: 4, status: 200 });
    // Full jitter: random() × base × 2^(attempt−1); Retry-After raises the second wait to 7 s.
    expect(waits).toEqual([50, 7000, 200]);
    expect(receiver.requests).toHaveLength(4);
    // The same event each time: receivers can drop duplicates by its id.
    expect(new Set(receiver.requests.map((q) => JSON.stringify(q.body))).size).toBe(1);
  });

  it("a 4xx other than 408, 425 and 429 is final: no retry", async () => {
    receiver.requests.length = 0;
    receiver.script = [(res) => res.writeHead(400).end('{"message":"bad request"}')];
    const r = await deliverChangeEvent(sink(), event, noWait);
    expect(r).toMatchObject({ ok: false, attempts: 1, status: 400 });
    expect(r.error).toBe(`${receiver.url}/api/annotations answered 400`);
    expect(receiver.requests).toHaveLength(1);
  });

  it("gives up after the last attempt, saying why, with no credentials, query or token in the message", async () => {
    receiver.script = Array.from({ length: 3 }, () => (res: ServerResponse) => res.writeHead(502).end());
    const r = await deliverChangeEvent(sink(), event, { ...noWait, maxAttempts: 3 });
    expect(r).toMatchObject({ ok: false, attempts: 3, status: 502 });
    expect(r.error).toBe(`${receiver.url}/api/annotations answered 502; gave up after 3 attempts`);
    const closed = await closedPort();
    const unreachable = await deliverChangeEvent(
      { ...sink(), url: `http://user:pw@127.0.0.1:${closed}/hook?api_key=abc123` },
      event,
      { ...noWait, maxAttempts: 2 },
    );
    expect(unreachable).toMatchObject({ ok: false, attempts: 2, status: null });
    expect(unreachable.error).toBe(
      `http://127.0.0.1:${closed}/hook could not be reached (ECONNREFUSED); gave up after 2 attempts`,
    );
    expect(JSON.stringify([r, unreachable])).not.toMatch(/abc123|glsa_secret|pw@/);
  });

  it("credentials in the URL are sent as Basic authentication, never in the URL", async () => {
    receiver.requests.length = 0;
    const r = await deliverChangeEvent(
      {
        name: "g",
        format: "grafana",
        url: receiver.url.replace("http://", "http://admin:p%40ss@") + "/api/annotations",
      },
      event,
      noWait,
    );
    expect(r.ok).toBe(true);
    expect(receiver.requests[0]!.headers.authorization).toBe(`Basic ${Buffer.from("admin:p@ss").toString("base64")}`);
    expect(receiver.requests[0]!.url).toBe("/api/annotations");
  });

  it("does not follow redirects (a webhook that moved is a configuration to fix, not a place to send credentials)", async () => {
    receiver.script = [(res) => res.writeHead(307, { location: "http://127.0.0.1:1/elsewhere" }).end()];
    const r = await deliverChangeEvent(sink(), event, { ...noWait, maxAttempts: 1 });
    expect(r.ok).toBe(false);
  });

  it("reads Retry-After as seconds or an HTTP date", () => {
    const now = Date.parse("2026-03-02T10:00:00Z");
    expect(parseRetryAfter("120", now)).toBe(120_000);
    expect(parseRetryAfter("Mon, 02 Mar 2026 10:00:30 GMT", now)).toBe(30_000);
    expect(parseRetryAfter("soon", now)).toBeNull();
    expect(parseRetryAfter(null, now)).toBeNull();
  });
});

describe("never a value", () => {
  it("events carry the key paths of a change, and no value of the configuration reaches any format", async () => {
    const before = { payments: { timeout_ms: 3000, retry: { max: 3 }, api_token: "tok-OLD-1f9a", region: "eu" } };
    const after = {
      payments: { timeout_ms: 4500, retry: { max: 5, jitter: true }, api_token: "tok-NEW-77c2", region: "eu" },
      flags: { dark_mode: "on-for-staff" },
    };
    const keys = changedKeyPaths(before, after);
    expect(keys).toEqual([
      "flags.dark_mode",
      "payments.api_token",
      "payments.retry.jitter",
      "payments.retry.max",
      "payments.timeout_ms",
    ]);
    const e = createChangeEvent({
      kind: "published",
      time: 0,
      environment: "production",
      version: event.version,
      previous: event.previous,
      keys,
    });
    const receiver = new Receiver();
    await receiver.start();
    try {
      await sendChangeEvent(
        (["cdevents", "grafana", "datadog"] as const).map((format) => ({
          name: format,
          format,
          url: `${receiver.url}/${format}`,
        })),
        e,
        noWait,
      );
      const wire = JSON.stringify(receiver.requests);
      for (const value of ["tok-OLD-1f9a", "tok-NEW-77c2", "4500", "3000", "on-for-staff", 'jitter":true'])
        expect(wire).not.toContain(value);
      expect(wire).toContain("payments.api_token");
    } finally {
      await receiver.close();
    }
  });

  it("refuses a 'key path' that carries a value", () => {
    for (const bad of ["payments.api_token=tok-123", "a b", "x".repeat(2000), "payments.api_token: tok"])
      expect(() =>
        createChangeEvent({
          kind: "published",
          time: 0,
          environment: "production",
          version: event.version,
          keys: [bad],
        }),
      ).toThrow(/not a key path/);
  });

  it("caps the key list and says how many there were", () => {
    const keys = Array.from({ length: 150 }, (_, i) => `ns.key${String(i).padStart(3, "0")}`);
    const e = createChangeEvent({
      kind: "published",
      time: 0,
      environment: "production",
      version: event.version,
      keys,
    });
    expect(e.keys).toHaveLength(100);
    expect(e.keyCount).toBe(150);
  });
});
