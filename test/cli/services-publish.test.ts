// @module-tag e2e
// Services published (docs/distribution.md, "Services"): `strata push` publishes, in one step, the snapshot of
// every service an environment runs on its own version chain, and only the services whose content changed; the
// endpoint (the real `strata serve`, spawned) serves each chain under /v1/environments/{env}/services/{svc}/…,
// and a token scoped to one service reads that service only (the whole matrix of tokens × routes).
import { execFileSync } from "node:child_process";
import { cpSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createClient, type StrataClientError } from "../../src/client/index.js";
import type { Snapshot } from "../../src/core/snapshot/index.js";
import { exampleKeyEnv, noKeyEnv, projectRoot, strata } from "../support/cli.js";
import { cleanupTempdirs, commitAll, git, tempdir } from "../support/gitdir.js";
import { readEvents } from "../support/server.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import { distributionDoc, servicesExample } from "../support/services.js";
import { lacking } from "../support/shared.js";

const missing = lacking("services published (the age CLI)", { tool: "age" });
const CHROMIUM = process.env.STRATA_CHROMIUM ?? "/usr/bin/chromium";
const noBrowser = lacking("the dashboard's services (STRATA_CHROMIUM overrides the path)", { tool: CHROMIUM });
const signingKeyFile = join(projectRoot, "examples/keys/EXAMPLE-ONLY-NOT-A-REAL-SIGNING-KEY.pem");

let repo: string;
let serve: ServeProcess | undefined;
const identity: Record<string, string> = {};
const token: Record<string, string> = {};

/** The scopes of the matrix's tokens. */
const SCOPES = {
  pusher: ["push:production"],
  env: ["read:production"],
  checkout: ["read:production/checkout"],
  marketing: ["read:production/marketing"],
  anyCheckout: ["read:*/checkout"],
  prodServices: ["read:production/*"],
  staging: ["read:staging"],
} as const;
type Who = keyof typeof SCOPES;

beforeAll(async () => {
  if (missing) return;
  repo = tempdir();
  for (const part of ["strata.yaml", ".sops.yaml", "schemas", "environments"])
    cpSync(join(projectRoot, part), join(repo, part), { recursive: true });
  const keys = tempdir();
  const recipient: Record<string, string> = {};
  // The worked example of docs/distribution.md, with these identities' recipients.
  const example = servicesExample(keys, identity, recipient);
  const docs = distributionDoc();
  // Its tokens: the scopes the doc gives the pusher and each service's runtime are the matrix's.
  const tokensExample = /<!-- services-tokens-example -->\n```sh\n([\s\S]*?)```/.exec(docs)![1]!;
  const documented = Object.fromEntries(
    [...tokensExample.matchAll(/--scope (\S+) --name (\S+)/g)].map((m) => [m[2], [m[1]]]),
  );
  expect(documented).toEqual({ ci: SCOPES.pusher, checkout: SCOPES.checkout, marketing: SCOPES.marketing });
  const settings = readFileSync(join(repo, "strata.yaml"), "utf8").replace("signing:\n", `${example}signing:\n`);
  writeFileSync(join(repo, "strata.yaml"), settings);
  git(repo, "init", "-q", "-b", "main");
  commitAll(repo, "services");

  const tokens = join(keys, "tokens.json");
  for (const [who, scopes] of Object.entries(SCOPES)) {
    const r = await strata([
      "serve",
      "token",
      "create",
      ...scopes.flatMap((s) => ["--scope", s]),
      "--name",
      who,
      "--tokens",
      tokens,
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    token[who] = r.stdout.trim();
  }
  serve = await spawnServe(["--store", `file:${join(tempdir(), "store")}`, "--tokens", tokens, "--repo", repo]);
});
afterAll(async () => {
  await serve?.stop("SIGKILL");
  cleanupTempdirs();
});

interface Pushed {
  environment: string;
  status: string;
  version: number;
  services?: { service: string; status: string; version: number }[];
}

async function push(): Promise<Pushed> {
  const r = await strata(
    [
      "push",
      "--env",
      "production",
      "--repo",
      repo,
      "--signing-key",
      signingKeyFile,
      "--endpoint",
      serve!.url,
      "--format",
      "json",
    ],
    { env: { ...noKeyEnv, ...exampleKeyEnv, STRATA_TOKEN: token.pusher! } },
  );
  expect(r.exitCode, r.stderr).toBe(0);
  return (JSON.parse(r.stdout) as { results: Pushed[] }).results[0]!;
}

function edit(file: string, from: string, to: string): void {
  const path = join(repo, file);
  const text = readFileSync(path, "utf8");
  expect(text).toContain(from);
  writeFileSync(path, text.replace(from, to));
  commitAll(repo, `edit ${file}`);
}

function get(path: string, who: Who | null, init: RequestInit = {}): Promise<Response> {
  return fetch(serve!.url + path, {
    ...init,
    headers: who === null ? {} : { authorization: `Bearer ${token[who]}` },
  });
}

const versions = (p: Pushed): Record<string, [string, number]> =>
  Object.fromEntries((p.services ?? []).map((s) => [s.service, [s.status, s.version]]));

describe.skipIf(missing)("push publishes every service of an environment, each on its own chain", () => {
  it("publishes the environment and each service; a change reaches only the services that declare it", async () => {
    const first = await push();
    expect(first).toMatchObject({ status: "published", version: 1 });
    expect(versions(first)).toEqual({ checkout: ["published", 1], marketing: ["published", 1] });

    // Nothing changed: no version anywhere.
    const again = await push();
    expect(again).toMatchObject({ status: "unchanged", version: 1 });
    expect(versions(again)).toEqual({ checkout: ["unchanged", 1], marketing: ["unchanged", 1] });

    // marketing's stream is open across the checkout-only change: the first event it receives after its
    // current version is the one of marketing's own change below, never one for the database change.
    const stream = await get("/v1/environments/production/services/marketing/events", "marketing");
    expect(stream.status).toBe(200);
    const checkoutStream = await get("/v1/environments/production/services/checkout/events", "checkout");

    edit("environments/production/database.yaml", "  min: 10\n", "  min: 11\n");
    const own = await push();
    expect(own).toMatchObject({ status: "published", version: 2 });
    expect(versions(own)).toEqual({ checkout: ["published", 2], marketing: ["unchanged", 1] });
    const checkoutEvents = await readEvents(checkoutStream, (e) => e.some((x) => x.id === "2"));
    expect(checkoutEvents.map((e) => e.id)).toEqual(["1", "2"]);
    expect(JSON.parse(checkoutEvents[1]!.data)).toMatchObject({
      environment: "production",
      service: "checkout",
      version: 2,
    });

    edit("environments/production/cache.yaml", "ttl_seconds: 900", "ttl_seconds: 901");
    const marketingOwn = await push();
    expect(versions(marketingOwn)).toEqual({ checkout: ["unchanged", 2], marketing: ["published", 2] });
    const marketingEvents = await readEvents(stream, (e) => e.some((x) => x.id === "2"));
    expect(marketingEvents.map((e) => e.id)).toEqual(["1", "2"]);
    const served = (await (
      await get("/v1/environments/production/services/marketing/snapshot", "marketing")
    ).json()) as Snapshot;
    expect(JSON.parse(marketingEvents[1]!.data)).toMatchObject({
      service: "marketing",
      version: 2,
      digest: served.digest,
    });

    edit("environments/production/http.yaml", "requests_per_minute: 6000", "requests_per_minute: 6001");
    const shared = await push();
    expect(versions(shared)).toEqual({ checkout: ["published", 3], marketing: ["published", 3] });

    const history = (await (
      await get("/v1/environments/production/services/marketing/history", "marketing")
    ).json()) as {
      service: string;
      versions: { version: number; service: string }[];
    };
    expect(history.service).toBe("marketing");
    expect(history.versions.map((v) => [v.version, v.service])).toEqual([
      [1, "marketing"],
      [2, "marketing"],
      [3, "marketing"],
    ]);
  });

  it("serves each service only its namespaces, its secrets opened by its own identity only (real age)", async () => {
    const checkout = (await (
      await get("/v1/environments/production/services/checkout/snapshot", "checkout")
    ).json()) as Snapshot;
    expect(checkout).toMatchObject({ environment: "production", service: "checkout" });
    expect(Object.keys(checkout.config).sort()).toEqual(["database", "http"]);
    const stanzas = (checkout.secrets as unknown as { sops: { age: { enc: string }[] } }).sops.age;
    const opens = (identityFile: string): boolean =>
      stanzas.some(({ enc }) => {
        try {
          execFileSync("age", ["--decrypt", "-i", identityFile], { input: enc, stdio: ["pipe", "pipe", "ignore"] });
          return true;
        } catch {
          return false;
        }
      });
    expect(opens(identity.checkout!)).toBe(true);
    expect(opens(identity.marketing!)).toBe(false);
  });

  it("answers every token on every route as its scopes say (200 / 403 / 404)", async () => {
    const env = "/v1/environments/production";
    const routes: Record<string, string> = {
      "env snapshot": `${env}/snapshot`,
      "env version": `${env}/snapshots/1`,
      "env history": `${env}/history`,
      "env events": `${env}/events`,
      "checkout snapshot": `${env}/services/checkout/snapshot`,
      "checkout version": `${env}/services/checkout/snapshots/1`,
      "checkout history": `${env}/services/checkout/history`,
      "checkout events": `${env}/services/checkout/events`,
      "marketing snapshot": `${env}/services/marketing/snapshot`,
      "marketing version": `${env}/services/marketing/snapshots/1`,
      "marketing history": `${env}/services/marketing/history`,
      "marketing events": `${env}/services/marketing/events`,
      "billing snapshot": `${env}/services/billing/snapshot`,
      "billing version": `${env}/services/billing/snapshots/1`,
      "billing history": `${env}/services/billing/history`,
      "billing events": `${env}/services/billing/events`,
    };
    // Who may read which chain: the environment's token and the pusher read everything of production
    // (the environment's snapshot holds it all anyway); a service's token reads that service only.
    const reads: Record<Who, (chain: string) => boolean> = {
      pusher: () => true,
      env: () => true,
      checkout: (c) => c === "checkout",
      marketing: (c) => c === "marketing",
      anyCheckout: (c) => c === "checkout",
      prodServices: (c) => c !== "env",
      staging: () => false,
    };
    const expected = (who: Who | null, route: string): number => {
      if (who === null) return 401;
      const chain = route.split(" ")[0]!;
      if (!reads[who](chain)) return 403;
      return chain === "billing" ? 404 : 200;
    };
    const answers: string[] = [];
    const wanted: string[] = [];
    for (const who of [...(Object.keys(SCOPES) as Who[]), null]) {
      for (const [route, path] of Object.entries(routes)) {
        const res = await get(path, who);
        await res.body?.cancel();
        answers.push(`${who} ${route} ${res.status}`);
        wanted.push(`${who} ${route} ${expected(who, route)}`);
      }
    }
    expect(answers).toEqual(wanted);
  });

  it("a service the environment does not run is a 404 naming the ones it does", async () => {
    const res = await get("/v1/environments/production/services/billing/snapshot", "env");
    expect(res.status).toBe(404);
    const body = (await res.json()) as { error: { code: string; message: string; services: string[] } };
    expect(body.error.code).toBe("unknown-service");
    expect(body.error.services).toEqual(["checkout", "marketing"]);
    expect(body.error.message).toContain('production has no service "billing"');
    expect(body.error.message).toContain("strata.yaml `services:`");
    const invalid = await get("/v1/environments/production/services/Bad..name/snapshot", "env");
    expect(invalid.status).toBe(404);
    expect(((await invalid.json()) as { error: { code: string } }).error.code).toBe("unknown-service");
  });

  it("refuses a push scope naming a service: push publishes an environment's services together", async () => {
    const r = await strata([
      "serve",
      "token",
      "create",
      "--scope",
      "push:production/checkout",
      "--tokens",
      join(tempdir(), "t.json"),
    ]);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("push scopes name environments");
    const pushAsService = await fetch(`${serve!.url}/v1/environments/production/services/checkout/snapshot`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token.checkout}`, "if-match": '"3"' },
      body: "{}",
    });
    expect(pushAsService.status).toBe(403);
  });

  it("the SDK of checkout reads checkout's snapshot: its namespaces, its secrets; another namespace is unknown-key naming strata.yaml", async () => {
    const trustedKeys = [/trusted_keys: \["([^"]+)"\]/.exec(readFileSync(join(repo, "strata.yaml"), "utf8"))![1]!];
    const cacheFile = join(tempdir(), "checkout.json");
    const client = await createClient({
      endpoint: serve!.url,
      environment: "production",
      service: "checkout",
      token: token.checkout!,
      trustedKeys,
      identity: readFileSync(identity.checkout!, "utf8"),
      cacheFile,
      env: {},
    });
    try {
      expect(client.snapshot).toMatchObject({ environment: "production", service: "checkout", version: 3 });
      expect(Object.keys(client.getAll()).sort()).toEqual(["database", "http"]);
      expect(typeof client.get("database.password")).toBe("string");
      let error: StrataClientError | null = null;
      try {
        client.get("cache.ttl_seconds");
      } catch (e) {
        error = e as StrataClientError;
      }
      expect(error?.code).toBe("unknown-key");
      expect(error?.message).toContain('namespace "cache" is not one of service checkout\'s (database, http)');
      expect(error?.message).toContain("strata.yaml");
    } finally {
      await client.close();
    }
    // Its last-known-good copy is checkout's own snapshot.
    expect(JSON.parse(readFileSync(cacheFile, "utf8"))).toMatchObject({ service: "checkout", version: 3 });

    // checkout's token does not read marketing's snapshot; marketing's identity does not open checkout's secrets.
    await expect(
      createClient({
        endpoint: serve!.url,
        environment: "production",
        service: "marketing",
        token: token.checkout!,
        trustedKeys,
        timeoutMs: 5_000,
        env: {},
      }),
    ).rejects.toMatchObject({ code: "access-denied" });
    // A service the environment does not run: unknown-service, naming the ones it does and strata.yaml.
    await expect(
      createClient({
        endpoint: serve!.url,
        environment: "production",
        service: "billing",
        token: token.env!,
        trustedKeys,
        timeoutMs: 5_000,
        env: {},
      }),
    ).rejects.toMatchObject({ code: "unknown-service", message: expect.stringContaining("checkout, marketing") });
  });

  it("strata agent --service writes its service's configuration only", async () => {
    const dir = tempdir();
    const out = join(dir, "config.json");
    const keys = join(dir, "trusted.txt");
    writeFileSync(
      keys,
      /trusted_keys: \["([^"]+)"\]/.exec(readFileSync(join(repo, "strata.yaml"), "utf8"))![1]! + "\n",
    );
    const args = [
      "agent",
      "--endpoint",
      serve!.url,
      "--env",
      "production",
      "--trusted-keys",
      keys,
      "--out",
      out,
      "--once",
    ];
    const r = await strata([...args, "--service", "marketing"], {
      env: { ...noKeyEnv, STRATA_TOKEN: token.marketing!, SOPS_AGE_KEY_FILE: identity.marketing! },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(Object.keys(JSON.parse(readFileSync(out, "utf8")) as object).sort()).toEqual(["cache", "http"]);
    // With checkout's identity, marketing's secrets do not open: refused, nothing written.
    const other = join(dir, "other.json");
    const refused = await strata(
      [
        "agent",
        "--endpoint",
        serve!.url,
        "--env",
        "production",
        "--trusted-keys",
        keys,
        "--out",
        other,
        "--once",
        "--service",
        "marketing",
      ],
      { env: { ...noKeyEnv, STRATA_TOKEN: token.marketing!, SOPS_AGE_KEY_FILE: identity.checkout! } },
    );
    expect(refused.exitCode).toBe(3);
    expect(refused.stderr).toContain("decryption-failed");
    expect(existsSync(other)).toBe(false);
  });

  it("strata history --service and strata status show each service's own versions", async () => {
    const env = { ...noKeyEnv, STRATA_TOKEN: token.env! };
    const history = await strata(
      ["history", "--env", "production", "--service", "checkout", "--endpoint", serve!.url, "--format", "json"],
      { env },
    );
    expect(history.exitCode, history.stderr).toBe(0);
    const doc = JSON.parse(history.stdout) as { service: string; versions: { version: number; service: string }[] };
    expect(doc.service).toBe("checkout");
    expect(doc.versions.map((v) => `${v.service} v${v.version}`)).toEqual([
      "checkout v3",
      "checkout v2",
      "checkout v1",
    ]);
    const text = await strata(["history", "--env", "production", "--service", "marketing", "--endpoint", serve!.url], {
      env,
    });
    expect(text.exitCode, text.stderr).toBe(0);
    expect(
      text.stdout
        .trim()
        .split("\n")
        .map((l) => l.split(" ")[0]),
    ).toEqual(["v3", "v2", "v1"]);
    const unknown = await strata(["history", "--env", "production", "--service", "billing", "--endpoint", serve!.url], {
      env,
    });
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toContain('production has no service "billing"');

    const status = await strata(["status", "--env", "production", "--endpoint", serve!.url, "--format", "json"], {
      env,
    });
    expect(status.exitCode, status.stderr).toBe(0);
    const production = (
      JSON.parse(status.stdout) as { environments: { services: { service: string; version: number }[] }[] }
    ).environments[0]!;
    expect(production.services.map((s) => [s.service, s.version])).toEqual([
      ["checkout", 3],
      ["marketing", 3],
    ]);
    const text2 = await strata(
      ["push", "--env", "production", "--repo", repo, "--signing-key", signingKeyFile, "--endpoint", serve!.url],
      { env: { ...noKeyEnv, ...exampleKeyEnv, STRATA_TOKEN: token.pusher! } },
    );
    expect(text2.exitCode, text2.stderr).toBe(0);
    expect(text2.stdout.trim().split("\n")).toEqual([
      "= production: unchanged, still version 4",
      "=  production/checkout: unchanged, still version 3",
      "=  production/marketing: unchanged, still version 3",
    ]);
    const shown = await strata(["status", "--env", "production", "--endpoint", serve!.url], { env });
    expect(shown.stdout).toMatch(/^ {2}service checkout: v3, published .* ago; /m);
    expect(shown.stdout).toMatch(/^ {2}service marketing: v3, published .* ago; /m);
  });

  it("runs docs/runtime.md's worked example as written", async () => {
    const doc = readFileSync(join(projectRoot, "docs/runtime.md"), "utf8");
    const block = /<!-- services-sdk-example -->\n```js\n([\s\S]*?)```/.exec(doc)![1]!;
    // `EXPR; // → VALUE (a note)`: the value of EXPR, as JSON, must be VALUE.
    const expected: string[] = [];
    const body = block.replace(/^(.*?);\s*\/\/ → (\S+).*$/gm, (_line, expr: string, value: string) => {
      expected.push(value);
      return `seen.push(JSON.stringify(${expr}));`;
    });
    expect(expected.length).toBe(4);
    const seen: string[] = [];
    const run = new Function(
      "createClient",
      "endpoint",
      "trustedKeys",
      "process",
      "seen",
      `return (async () => {\n${body}\n})();`,
    ) as (...args: unknown[]) => Promise<void>;
    const trustedKeys = [/trusted_keys: \["([^"]+)"\]/.exec(readFileSync(join(repo, "strata.yaml"), "utf8"))![1]!];
    const env = { STRATA_TOKEN: token.checkout!, CHECKOUT_AGE_IDENTITY: readFileSync(identity.checkout!, "utf8") };
    await run(createClient, serve!.url, trustedKeys, { env }, seen);
    expect(seen).toEqual(expected);
  });

  it.skipIf(noBrowser)("the dashboard's environment page lists the services and their versions", async () => {
    const browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
    });
    try {
      const page = await (await browser.newContext()).newPage();
      page.setDefaultTimeout(25_000);
      await page.goto(`${serve!.url}/ui/`);
      await page.getByLabel("Token").fill(token.env!);
      await page.getByRole("button", { name: "Sign in" }).click();
      await page.getByRole("table").waitFor();
      await page.goto(`${serve!.url}/ui/#/env/production`);
      await page.getByRole("heading", { name: "Services" }).waitFor();
      const items = (await page.locator("ul.services li").allTextContents()).map((t) => t.replace(/\s+/g, " ").trim());
      expect(items).toEqual(["checkout: v3", "marketing: v3"]);
    } finally {
      await browser.close();
    }
  });

  it("strata rollback takes each service back to the content it had at that version of the environment", async () => {
    const r = await strata(
      [
        "rollback",
        "--env",
        "production",
        "--to",
        "2",
        "--repo",
        repo,
        "--signing-key",
        signingKeyFile,
        "--endpoint",
        serve!.url,
        "--format",
        "json",
      ],
      { env: { ...noKeyEnv, STRATA_TOKEN: token.pusher! } },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const result = (
      JSON.parse(r.stdout) as {
        result: {
          version: number;
          services: { service: string; status: string; version: number; rollbackOf?: number }[];
        };
      }
    ).result;
    // production v2 was the database change: checkout had its v2 then, marketing its v1.
    expect(result.version).toBe(5);
    expect(result.services.map((s) => [s.service, s.status, s.version, s.rollbackOf])).toEqual([
      ["checkout", "published", 4, 2],
      ["marketing", "published", 4, 1],
    ]);
    const served = async (service: string): Promise<Snapshot> =>
      (await (await get(`/v1/environments/production/services/${service}/snapshot`, "env")).json()) as Snapshot;
    const version = async (service: string, v: number): Promise<Snapshot> =>
      (await (await get(`/v1/environments/production/services/${service}/snapshots/${v}`, "env")).json()) as Snapshot;
    expect((await served("checkout")).contentDigest).toBe((await version("checkout", 2)).contentDigest);
    expect((await served("marketing")).contentDigest).toBe((await version("marketing", 1)).contentDigest);
    expect((await served("marketing")).rollbackOf).toBe(1);

    // The same rollback again: nothing left to do on any chain.
    const again = await strata(
      ["rollback", "--env", "production", "--to", "2", "--repo", repo, "--signing-key", signingKeyFile].concat([
        "--endpoint",
        serve!.url,
      ]),
      { env: { ...noKeyEnv, STRATA_TOKEN: token.pusher! } },
    );
    expect(again.exitCode, again.stderr).toBe(0);
    expect(again.stdout.trim().split("\n")).toEqual([
      "= production: unchanged, still version 5",
      "=  production/checkout: unchanged, still version 4",
      "=  production/marketing: unchanged, still version 4",
    ]);
  });
});
