// @module-tag e2e
// The OpenFeature provider (strata-config/openfeature) registered with the real @openfeature/server-sdk,
// reading a strata client of a real `strata serve` (the built CLI, file store) that real signed snapshots
// (real SOPS secrets, a real age identity) are published to: every evaluation type, the errors, the secret
// refused everywhere, the ConfigurationChanged events and the provider's status following the client.
import {
  OpenFeature,
  ProviderEvents,
  ProviderStatus,
  type Client,
  type EvaluationDetails,
  type EventDetails,
  type FlagValue,
  type Hook,
  type Logger,
} from "@openfeature/server-sdk";
import { afterEach, describe, expect, it } from "vitest";
import { StrataClient, type ClientOptions } from "../../src/client/index.js";
import type { JsonObject } from "../../src/core/json.js";
import { StrataProvider } from "../../src/openfeature/index.js";
import {
  encryptSecrets,
  newAgeIdentity,
  startEndpoint,
  testBackoff,
  waitFor,
  type Endpoint,
} from "../client/support.js";
import { freePort } from "../support/etcd.js";
import { newKey } from "../support/snapshots.js";

const SECRET = "of-s3cr3t-7d1c-never-shown";
const base: Record<string, JsonObject> = {
  checkout: { new_flow: true, banner: "Welcome", max_items: 25, ratio: 0.25, regions: ["eu", "us"] },
  database: { host: "db.internal", pool: { max: 10 } },
};
const DAY = 24 * 3600 * 1000;
/** Signed a week long, a year ago: expired before any client sees it. */
const longAgo = (): { createdAt: Date; expiresAt: Date } => ({
  createdAt: new Date(Date.now() - 372 * DAY),
  expiresAt: new Date(Date.now() - 365 * DAY),
});

const endpoints: Endpoint[] = [];
const clients: StrataClient[] = [];
afterEach(async () => {
  await OpenFeature.close();
  OpenFeature.clearHooks();
  for (const c of clients.splice(0)) await c.close();
  for (const e of endpoints.splice(0)) await e.stop();
});

async function endpoint(options: Parameters<typeof startEndpoint>[0] = {}): Promise<Endpoint> {
  const ep = await startEndpoint(options);
  endpoints.push(ep);
  return ep;
}

function strataClient(ep: Endpoint, options: Partial<ClientOptions> = {}): StrataClient {
  const c = new StrataClient({
    endpoint: ep.url,
    environment: "staging",
    service: "checkout",
    trustedKeys: [ep.publicKey],
    backoff: testBackoff,
    ...options,
  });
  clients.push(c);
  return c;
}

/** Every provider event a domain's OpenFeature client hears, in order, from before the provider is set. */
interface Registered {
  flags: Client;
  provider: StrataProvider;
  events: { type: ProviderEvents; details: EventDetails | undefined }[];
}

let domains = 0;
async function register(client: StrataClient): Promise<Registered> {
  const domain = `strata-test-${++domains}`;
  const flags = OpenFeature.getClient(domain);
  const events: Registered["events"] = [];
  for (const type of Object.values(ProviderEvents))
    flags.addHandler(type, (details) => void events.push({ type, details }));
  const provider = new StrataProvider(client);
  await OpenFeature.setProviderAndWait(domain, provider);
  return { flags, provider, events };
}

const ofType = (events: Registered["events"], type: ProviderEvents) => events.filter((e) => e.type === type);

describe("evaluation", () => {
  it("resolves every type: value, variant = version, reason STATIC, the environment in the metadata", async () => {
    const ep = await endpoint();
    await ep.publish(base);
    const { flags } = await register(strataClient(ep));
    expect(flags.providerStatus).toBe(ProviderStatus.READY);

    const bool = await flags.getBooleanDetails("checkout.new_flow", false);
    expect(bool).toMatchObject({ value: true, variant: "1", reason: "STATIC", flagKey: "checkout.new_flow" });
    expect(bool.errorCode).toBeUndefined();
    expect(bool.flagMetadata).toEqual({ environment: "staging", version: 1 });
    expect(await flags.getStringDetails("checkout.banner", "")).toMatchObject({
      value: "Welcome",
      variant: "1",
      reason: "STATIC",
    });
    expect(await flags.getNumberValue("checkout.max_items", 0)).toBe(25);
    expect(await flags.getNumberValue("checkout.ratio", 0)).toBe(0.25);
    expect(await flags.getObjectValue("checkout.regions", [])).toEqual(["eu", "us"]);
    const pool = await flags.getObjectDetails("database.pool", {});
    expect(pool).toMatchObject({ value: { max: 10 }, variant: "1", reason: "STATIC" });
    expect(await flags.getObjectValue("database", {})).toEqual({ host: "db.internal", pool: { max: 10 } });
  });

  it("a type the schema did not give the key is TYPE_MISMATCH, saying what it is; an unknown key is FLAG_NOT_FOUND", async () => {
    const ep = await endpoint();
    await ep.publish(base);
    const { flags } = await register(strataClient(ep));

    const mismatch = await flags.getBooleanDetails("checkout.banner", false);
    expect(mismatch).toMatchObject({ value: false, reason: "ERROR", errorCode: "TYPE_MISMATCH" });
    expect(mismatch.errorMessage).toBe('strata: "checkout.banner" in staging v1 is a string, not a boolean');
    expect(mismatch.errorMessage).not.toContain("Welcome");
    expect((await flags.getStringDetails("checkout.new_flow", "x")).errorMessage).toBe(
      'strata: "checkout.new_flow" in staging v1 is a boolean, not a string',
    );
    expect(await flags.getNumberDetails("database.pool", 7)).toMatchObject({
      value: 7,
      errorCode: "TYPE_MISMATCH",
      errorMessage: 'strata: "database.pool" in staging v1 is a map, not a number',
    });
    expect(await flags.getObjectDetails("checkout.max_items", { a: 1 })).toMatchObject({
      value: { a: 1 },
      errorCode: "TYPE_MISMATCH",
      errorMessage: 'strata: "checkout.max_items" in staging v1 is a number, not an object (a map or an array)',
    });
    expect(await flags.getStringDetails("checkout.regions", "")).toMatchObject({
      errorCode: "TYPE_MISMATCH",
      errorMessage: 'strata: "checkout.regions" in staging v1 is an array, not a string',
    });

    const missing = await flags.getBooleanDetails("checkout.new_flw", true);
    expect(missing).toMatchObject({ value: true, reason: "ERROR", errorCode: "FLAG_NOT_FOUND" });
    expect(missing.errorMessage).toBe('strata: unknown key "checkout.new_flw" in staging v1');
    expect((await flags.getNumberDetails("nowhere", 3)).errorCode).toBe("FLAG_NOT_FOUND");
  });

  it("refuses sensitive keys and maps that hold one: the secret's value is in no detail, hook, log or event", async () => {
    const ep = await endpoint();
    const age = await newAgeIdentity();
    const secrets = (password: string) => encryptSecrets({ database: { password } }, age.recipient);
    await ep.publish(base, { secrets: await secrets(SECRET) });
    const client = strataClient(ep, { identity: age.identity });

    const output: unknown[] = [];
    const logger: Logger = {
      error: (...args) => void output.push(["error", ...args]),
      warn: (...args) => void output.push(["warn", ...args]),
      info: (...args) => void output.push(["info", ...args]),
      debug: (...args) => void output.push(["debug", ...args]),
    };
    OpenFeature.setLogger(logger);
    const hook: Hook = {
      before: (ctx) => void output.push(["before", ctx.flagKey, ctx.defaultValue, ctx.context]),
      after: (_ctx, details) => void output.push(["after", details]),
      error: (_ctx, err) => void output.push(["error-hook", (err as Error).message, (err as { code?: string }).code]),
      finally: (_ctx, details) => void output.push(["finally", details]),
    };
    OpenFeature.addHooks(hook);
    const { flags, events } = await register(client);
    // The client itself has the secret (decrypted in memory with the service's identity).
    expect(client.get("database.password")).toBe(SECRET);

    const details: EvaluationDetails<FlagValue>[] = [
      await flags.getStringDetails("database.password", "fallback"),
      await flags.getBooleanDetails("database.password", false),
      await flags.getNumberDetails("database.password", 0),
      await flags.getObjectDetails("database.password", null),
      await flags.getObjectDetails("database", {}),
    ];
    for (const d of details) {
      expect(d.reason).toBe("ERROR");
      expect(d.errorCode).toBe("GENERAL");
      expect(d.errorMessage).toMatch(
        /^strata: "database(\.password)?" in staging v1 is sensitive \(a secret, or a map holding one\)/,
      );
    }
    expect(details[0]!.value).toBe("fallback");
    expect(details[4]!.value).toEqual({});
    // A key beside the secret is served as usual.
    expect(await flags.getStringValue("database.host", "")).toBe("db.internal");

    // A new version that rotates the secret and changes one more key: the secret is in no event either.
    await ep.publish(
      { ...base, database: { host: "db2.internal", pool: { max: 10 } } },
      { secrets: await secrets(`${SECRET}-rotated`) },
    );
    await waitFor(() => ofType(events, ProviderEvents.ConfigurationChanged).length === 1, "ConfigurationChanged");
    expect(ofType(events, ProviderEvents.ConfigurationChanged)[0]!.details?.flagsChanged).toEqual(["database.host"]);
    expect((await flags.getStringDetails("database.password", "fallback")).value).toBe("fallback");

    output.push(details, events);
    const all = JSON.stringify(output);
    expect(all).toContain("database.password");
    expect(all).not.toContain(SECRET);
    expect(all).not.toContain("of-s3cr3t");
  });
});

describe("events and status", () => {
  it("a publish fires ConfigurationChanged with exactly the keys it changed; evaluations then name the new version", async () => {
    const ep = await endpoint();
    await ep.publish(base);
    const { flags, events } = await register(strataClient(ep));
    const changed = new Promise<EventDetails | undefined>((resolve) =>
      flags.addHandler(ProviderEvents.ConfigurationChanged, resolve),
    );
    await ep.publish({
      // changed: new_flow, regions (an array is one leaf); removed: ratio; added: theme; unchanged: the rest
      checkout: { new_flow: false, banner: "Welcome", max_items: 25, regions: ["eu"], theme: "dark" },
      database: { host: "db.internal", pool: { max: 10 } },
    });
    const details = await changed;
    expect(details?.flagsChanged).toEqual([
      "checkout.new_flow",
      "checkout.ratio",
      "checkout.regions",
      "checkout.theme",
    ]);
    expect(details?.metadata).toEqual({ version: 2, previousVersion: 1 });
    expect(await flags.getBooleanDetails("checkout.new_flow", true)).toMatchObject({
      value: false,
      variant: "2",
      reason: "STATIC",
    });
    expect((await flags.getNumberDetails("checkout.ratio", 1)).errorCode).toBe("FLAG_NOT_FOUND");
    // One change, one event; the status did not move.
    expect(events.map((e) => e.type)).toEqual([ProviderEvents.Ready, ProviderEvents.ConfigurationChanged]);
    expect(flags.providerStatus).toBe(ProviderStatus.READY);
  });

  it("STALE past the snapshot's expiresAt: the Stale event, the status and the reason; READY again with a fresh version", async () => {
    const ep = await endpoint();
    await ep.publish(base);
    // allowExpired: the client takes a version already past its expiresAt (as a disconnected site would), so
    // the snapshot in use expires at a known point of the test rather than at a time.
    const { flags, events } = await register(strataClient(ep, { allowExpired: true }));
    expect(await flags.getBooleanDetails("checkout.new_flow", false)).toMatchObject({ reason: "STATIC", variant: "1" });

    await ep.publish({ ...base, checkout: { ...base.checkout!, banner: "Old" } }, longAgo());
    await waitFor(() => ofType(events, ProviderEvents.Stale).length === 1, "the Stale event");
    expect(flags.providerStatus).toBe(ProviderStatus.STALE);
    expect(ofType(events, ProviderEvents.Stale)[0]!.details?.message).toMatch(
      /^strata: staging v2 expired at \d{4}-\d\d-\d\dT.*Z; serving it until a newer version arrives$/,
    );
    // Still served (the last verified version), said to be stale.
    expect(await flags.getStringDetails("checkout.banner", "")).toMatchObject({
      value: "Old",
      variant: "2",
      reason: "STALE",
    });

    await ep.publish({ ...base, checkout: { ...base.checkout!, banner: "Fresh" } });
    await waitFor(() => ofType(events, ProviderEvents.Ready).length === 2, "READY again");
    expect(flags.providerStatus).toBe(ProviderStatus.READY);
    expect(await flags.getStringDetails("checkout.banner", "")).toMatchObject({
      value: "Fresh",
      variant: "3",
      reason: "STATIC",
    });
    expect(events.map((e) => e.type)).toEqual([
      ProviderEvents.Ready,
      ProviderEvents.Stale,
      ProviderEvents.ConfigurationChanged,
      ProviderEvents.Ready,
      ProviderEvents.ConfigurationChanged,
    ]);
  });

  it("a provider set on a client already stale turns STALE once it is ready", async () => {
    const ep = await endpoint();
    await ep.publish(base, longAgo());
    const client = strataClient(ep, { allowExpired: true });
    await client.ready();
    const { flags, events } = await register(client);
    await waitFor(() => ofType(events, ProviderEvents.Stale).length === 1, "the Stale event");
    expect(flags.providerStatus).toBe(ProviderStatus.STALE);
    expect((await flags.getNumberDetails("checkout.max_items", 0)).reason).toBe("STALE");
  });

  it("ERROR while the newest published version is refused (serving the last good one), READY once a good one arrives", async () => {
    const other = newKey().key;
    // The endpoint accepts the other key's signature; the service trusts only the pipeline's key.
    const ep = await endpoint({ extraTrustedKeys: [other.publicKey.text] });
    await ep.publish(base);
    const { flags, events } = await register(strataClient(ep));

    await ep.publish({ ...base, checkout: { ...base.checkout!, banner: "Forged" } }, { key: other });
    await waitFor(() => ofType(events, ProviderEvents.Error).length === 1, "the Error event");
    expect(flags.providerStatus).toBe(ProviderStatus.ERROR);
    expect(ofType(events, ProviderEvents.Error)[0]!.details).toMatchObject({
      message: "strata: refused v2 of staging (invalid-signature); serving v1",
      metadata: { version: 1, rejectedVersion: 2, reason: "invalid-signature" },
    });
    expect(await flags.getStringDetails("checkout.banner", "")).toMatchObject({
      value: "Welcome",
      variant: "1",
      reason: "STATIC",
    });

    await ep.publish({ ...base, checkout: { ...base.checkout!, banner: "Signed" } });
    await waitFor(() => ofType(events, ProviderEvents.Ready).length === 2, "READY again");
    expect(flags.providerStatus).toBe(ProviderStatus.READY);
    expect(await flags.getStringValue("checkout.banner", "")).toBe("Signed");
    expect(ofType(events, ProviderEvents.ConfigurationChanged).map((e) => e.details?.flagsChanged)).toEqual([
      ["checkout.banner"],
    ]);
  });

  it("a client that cannot load makes the provider FATAL with the client's reason; evaluations return the default", async () => {
    const port = await freePort();
    const client = new StrataClient({
      endpoint: `http://127.0.0.1:${port}`,
      environment: "staging",
      service: "checkout",
      trustedKeys: [newKey().key.publicKey.text],
      timeoutMs: 500,
      backoff: testBackoff,
    });
    clients.push(client);
    const domain = "strata-test-fatal";
    const flags = OpenFeature.getClient(domain);
    await expect(OpenFeature.setProviderAndWait(domain, new StrataProvider(client))).rejects.toThrow(
      /^strata: the client could not load its configuration \(unreachable\): cannot load staging/,
    );
    expect(flags.providerStatus).toBe(ProviderStatus.FATAL);
    expect(await flags.getBooleanDetails("checkout.new_flow", true)).toMatchObject({
      value: true,
      reason: "ERROR",
      errorCode: "PROVIDER_FATAL",
    });
  });
});

describe("hooks and context", () => {
  it("hooks see the provider's details and the merged context; a targeting key does not change a static value", async () => {
    const ep = await endpoint();
    await ep.publish(base);
    const seen: { stage: string; flagKey: string; context?: unknown; variant?: string; reason?: string }[] = [];
    const hook: Hook = {
      before: (ctx) => void seen.push({ stage: "before", flagKey: ctx.flagKey, context: ctx.context }),
      after: (ctx, d) => void seen.push({ stage: "after", flagKey: ctx.flagKey, variant: d.variant, reason: d.reason }),
      finally: (ctx, d) => void seen.push({ stage: "finally", flagKey: ctx.flagKey, reason: d.reason }),
      error: (ctx) => void seen.push({ stage: "error", flagKey: ctx.flagKey }),
    };
    OpenFeature.setContext({ region: "eu" });
    const { flags } = await register(strataClient(ep));
    flags.addHooks(hook);

    for (const targetingKey of ["user-1", "user-2"])
      expect(await flags.getBooleanDetails("checkout.new_flow", false, { targetingKey })).toMatchObject({
        value: true,
        variant: "1",
        reason: "STATIC",
      });
    await flags.getNumberValue("checkout.banner", 0, { targetingKey: "user-3" });
    expect(seen).toEqual([
      { stage: "before", flagKey: "checkout.new_flow", context: { region: "eu", targetingKey: "user-1" } },
      { stage: "after", flagKey: "checkout.new_flow", variant: "1", reason: "STATIC" },
      { stage: "finally", flagKey: "checkout.new_flow", reason: "STATIC" },
      { stage: "before", flagKey: "checkout.new_flow", context: { region: "eu", targetingKey: "user-2" } },
      { stage: "after", flagKey: "checkout.new_flow", variant: "1", reason: "STATIC" },
      { stage: "finally", flagKey: "checkout.new_flow", reason: "STATIC" },
      { stage: "before", flagKey: "checkout.banner", context: { region: "eu", targetingKey: "user-3" } },
      { stage: "error", flagKey: "checkout.banner" },
      { stage: "finally", flagKey: "checkout.banner", reason: "ERROR" },
    ]);
    OpenFeature.setContext({});
  });
});
