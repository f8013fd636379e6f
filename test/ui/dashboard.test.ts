// @module-tag e2e
// The dashboard in a real browser (Debian's chromium driven by playwright-core) against a real `strata
// serve` (the built CLI) on a file store with the example repository pushed: login with a scoped read token,
// the pages, a diff, a live push, a tampered store file, keyboard navigation, axe-core on every page, and
// every response of the crawl grepped for the example's secret values.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createToken } from "../../src/server/tokens.js";
import { exampleKeyEnv, projectRoot, strata } from "../support/cli.js";
import {
  checkAccessibility,
  copyExampleRepository,
  CHROMIUM,
  launchBrowser,
  publishScreenshots,
} from "../support/dashboard.js";
import { cleanupTempdirs, commitAll, gitdir, tempdir } from "../support/gitdir.js";
import { lacking } from "../support/shared.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";

const noBrowser = lacking("the dashboard in a browser (STRATA_CHROMIUM overrides the path)", { tool: CHROMIUM });
const SIGNING_KEY = join(projectRoot, "examples", "keys", "EXAMPLE-ONLY-NOT-A-REAL-SIGNING-KEY.pem");
/** Where the screenshots go (ignored by git); `STRATA_UPDATE_SCREENSHOTS=1` also copies them to docs/screenshots. */
const SHOTS = join(projectRoot, "tmp", "ui-screenshots");
/** Every plaintext secret of the example repository, and the one this test sets. */
const SECRETS = [
  "example-staging-db-password-7f3a",
  "example-production-db-password-c91e",
  "example-prod-partner-token-5d2b8e1a",
  "example-prod-shipping-token-aa41c07f",
  "example-production-redis-token-0b6d",
  "example-staging-partner-token-1c9e77",
  "rotated-partner-token-dashboard-0001",
];

let repo: string;
let storeDir: string;
let serve: ServeProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let readToken: string;
let pushToken: string;
/** The body of every response the browser received, for the secrets grep. */
const crawled: { url: string; status: number; headers: Record<string, string>; body: string }[] = [];

async function push(...args: string[]): Promise<void> {
  const r = await strata(["push", "--endpoint", serve.url, "--signing-key", SIGNING_KEY, ...args], {
    cwd: repo,
    env: { ...exampleKeyEnv, STRATA_TOKEN: pushToken },
  });
  expect(r.exitCode, r.stderr).toBe(0);
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

/** Presses Tab until the focused element's text matches, at most `limit` times; fails when it never does. */
async function tabTo(text: RegExp, limit = 40): Promise<void> {
  for (let i = 0; i < limit; i++) {
    await page.keyboard.press("Tab");
    const focused = String(
      await page.evaluate(
        `(() => { const el = document.activeElement; return el === null ? "" : [el.textContent, el.getAttribute("aria-label"), el.id].join(" "); })()`,
      ),
    );
    if (text.test(focused)) return;
  }
  throw new Error(`Tab never reached ${text}`);
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  repo = gitdir({});
  copyExampleRepository(repo);
  commitAll(repo, "the example repository");
  storeDir = tempdir("strata-ui-store-");
  const tokens = join(tempdir("strata-ui-tokens-"), "tokens.json");
  readToken = (await createToken(tokens, { scopes: ["read:staging", "read:production-eu"], name: "on-call" })).token;
  pushToken = (await createToken(tokens, { scopes: ["push:*"], name: "ci" })).token;
  serve = await spawnServe(["--store", `file:${storeDir}`, "--tokens", tokens, "--repo", repo], exampleKeyEnv);
  await push("--all");
  // A second staging version: a restart-required key, a plain value and a secret change.
  writeFileSync(
    join(repo, "environments/staging/http.yaml"),
    readFileSync(join(repo, "environments/staging/http.yaml"), "utf8") + "listen:\n  port: 9090\n",
  );
  const set = await strata(
    [
      "secrets",
      "set",
      "environments/staging/http.sops.yaml",
      "api_tokens.payments_partner",
      '"rotated-partner-token-dashboard-0001"',
    ],
    { cwd: repo, env: exampleKeyEnv },
  );
  expect(set.exitCode, set.stderr).toBe(0);
  commitAll(repo, "staging listens on 9090; rotate the partner token");
  await push("--env", "staging");

  browser = await launchBrowser();
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  page = await context.newPage();
  // Fail with Playwright's own message (what it waited for) before the test's timeout.
  page.setDefaultTimeout(25_000);
  page.on("response", (r) => {
    const url = r.url();
    // Event streams never end: their frames carry versions and digests only (checked in the server's tests).
    if (url.endsWith("/events")) return;
    void r.body().then(
      (b) => crawled.push({ url, status: r.status(), headers: r.headers(), body: b.toString("utf8") }),
      () => undefined,
    );
  });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  publishScreenshots(SHOTS);
  cleanupTempdirs();
});

describe.skipIf(noBrowser)("the dashboard in a browser", { timeout: 90_000 }, () => {
  it("asks for a token, refuses a wrong one, and shows only the environments the token may read", async () => {
    const started = Date.now();
    await page.goto(`${serve.url}/ui/`);
    await page.getByRole("heading", { name: "Sign in to the strata dashboard" }).waitFor();
    await checkAccessibility(page, "login");
    await shot("login");

    await page.getByLabel("Token").fill("strata_not-a-token");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("alert").filter({ hasText: "not valid" }).waitFor();

    await page.getByLabel("Token").fill(readToken);
    await page.keyboard.press("Enter");
    const table = page.getByRole("table");
    await table.waitFor();
    const rows = await page.locator("tbody th[scope=row] a").allTextContents();
    expect(rows.sort()).toEqual(["production-eu", "staging"]);
    await expect.poll(() => page.locator("body").textContent()).not.toMatch(/development|\bproduction\b(?!-eu)/);
    const cookie = (await context.cookies()).find((c) => c.name === "strata_token");
    expect(cookie).toMatchObject({ httpOnly: true, sameSite: "Strict", path: "/" });
    await checkAccessibility(page, "environments");
    await shot("environments");

    // Time to first render, signed in: a fresh load until the environments table is drawn.
    const t0 = Date.now();
    await page.reload();
    await page.getByRole("table").waitFor();
    const firstRender = await page.evaluate(() => performance.now());
    console.log(
      `dashboard: first render ${Math.round(firstRender)} ms after navigation start (reload to table ${Date.now() - t0} ms; login flow ${Date.now() - started} ms)`,
    );
  });

  it("opens the diff between two versions, in the model of strata diff, with the secret's value hidden", async () => {
    await page.getByRole("link", { name: "staging" }).click();
    await page.getByRole("heading", { level: 1, name: "staging" }).waitFor();
    await page.getByLabel("From", { exact: true }).selectOption("1");
    await page.getByLabel("To", { exact: true }).selectOption("2");
    await page.getByRole("button", { name: "Compare" }).click();
    await page.getByRole("heading", { name: "Changes from v1 to v2" }).waitFor();
    expect(page.url()).toMatch(/#\/env\/staging\/diff\/1\/2$/);
    const port = page.getByRole("row").filter({ hasText: "http.listen.port" });
    await expect.poll(() => port.textContent()).toContain("8080 → 9090");
    expect(await port.textContent()).toContain("restart required");
    const secret = page.getByRole("row").filter({ hasText: "http.api_tokens.payments_partner" });
    expect(await secret.textContent()).toContain("value hidden");
    await checkAccessibility(page, "environment");
    await shot("environment");
  });

  it("shows a push without a reload", async () => {
    await page.evaluate("window.marker = 42");
    writeFileSync(
      join(repo, "environments/staging/database.yaml"),
      readFileSync(join(repo, "environments/staging/database.yaml"), "utf8").replace("max: 25", "max: 30"),
    );
    commitAll(repo, "a bigger staging pool");
    await push("--env", "staging");
    await page.locator(".timeline li").filter({ hasText: "v3" }).first().waitFor({ timeout: 20_000 });
    await page.getByRole("status").filter({ hasText: "staging is now at version 3" }).waitFor();
    expect(await page.evaluate("window.marker")).toBe(42);
  });

  it("shows the fleet from the clients' Strata-Client header", async () => {
    for (const [instance, version] of [
      ["pod-a", 3],
      ["pod-b", 2],
    ] as const) {
      const r = await fetch(`${serve.url}/v1/environments/staging/snapshot`, {
        headers: {
          authorization: `Bearer ${readToken}`,
          "strata-client": `service=checkout; instance=${instance}; version=${version}; kind=sdk`,
        },
      });
      expect(r.status).toBe(200);
    }
    // An instance that refused v3 at start and runs nothing: shown with its reason, not counted as "v0".
    const failed = await fetch(`${serve.url}/v1/environments/staging/snapshot`, {
      method: "HEAD",
      headers: {
        authorization: `Bearer ${readToken}`,
        "strata-client":
          "service=checkout; instance=pod-c; version=0; kind=agent; rejected=3; reason=invalid-signature",
      },
    });
    expect(failed.status).toBe(200);
    await page.getByRole("link", { name: "Fleet" }).click();
    await page.getByRole("heading", { level: 1, name: "Fleet" }).waitFor();
    const podB = page.getByRole("row").filter({ hasText: "pod-b" });
    await podB.waitFor();
    expect(await podB.textContent()).toContain("behind v3");
    const podC = page.getByRole("row").filter({ hasText: "pod-c" });
    expect(await podC.textContent()).toContain("failed at start: v3 invalid-signature");
    await page.getByText("Runs: v3: 1 client · v2: 1 client · failed at start: 1 client").waitFor();
    await checkAccessibility(page, "fleet");
    await shot("fleet");
  });

  it("verifies the audit chain and shows a tampered store file as a break in red, with the first bad version", async () => {
    await page.getByRole("link", { name: "Audit" }).click();
    await page.getByText("Every chain is intact.").waitFor();
    await checkAccessibility(page, "audit");
    await shot("audit");

    // Someone with access to the store's disk edits staging's version 2.
    const file = join(storeDir, "envs", "staging", "v", "000000000002.json");
    writeFileSync(file, readFileSync(file, "utf8").replace('"max":25', '"max":250'));
    await page.reload();
    const broken = page.getByRole("heading", { name: /staging.*chain broken at v2/ });
    await broken.waitFor();
    const color = await page.evaluate(`getComputedStyle(document.querySelector(".chain-broken")).borderLeftColor`);
    expect(color).toBe("rgb(164, 14, 38)");
    expect(await page.getByRole("alert").first().textContent()).toMatch(/v2: (digest-mismatch|store-corrupt)/);
    await checkAccessibility(page, "audit-broken");
    await shot("audit-broken");
  });

  it("is usable with the keyboard alone", async () => {
    // Each step named, so that a failure on a loaded machine says where it stopped.
    const step = async (name: string, fn: () => Promise<unknown>): Promise<void> => {
      try {
        await fn();
      } catch (e) {
        throw new Error(`keyboard step "${name}": ${(e as Error).message}`, { cause: e });
      }
    };
    // A new page moves the focus to its content (preact runs that effect after the paint): wait for it, so
    // the next Tab starts from there.
    const focusedOnPage = () => expect.poll(() => page.evaluate("document.activeElement.id")).toBe("main");
    // A fresh document (not a same-document hash change), so the focus starts at the top.
    await step("load", async () => {
      await page.goto(`${serve.url}/ui/?keyboard#/`);
      await page.locator("table.envs").waitFor();
    });
    await step("skip link, then Fleet", async () => {
      await tabTo(/Skip to content/);
      await tabTo(/^Fleet/);
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { level: 1, name: "Fleet" }).waitFor();
      await focusedOnPage();
    });
    await step("back to Environments, open staging", async () => {
      await tabTo(/^Environments/);
      await page.keyboard.press("Enter");
      await page.locator("table.envs").waitFor();
      await focusedOnPage();
      await tabTo(/^staging/);
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { level: 1, name: "staging" }).waitFor();
      await focusedOnPage();
    });
    await step("pick v1 and v3 and compare", async () => {
      await page.getByLabel("From", { exact: true }).waitFor();
      await tabTo(/ from$/);
      await page.keyboard.press("Home");
      await expect.poll(() => page.getByLabel("From", { exact: true }).inputValue()).toBe("1");
      await tabTo(/ to$/);
      await page.keyboard.press("End");
      await expect.poll(() => page.getByLabel("To", { exact: true }).inputValue()).toBe("3");
      await tabTo(/Compare/);
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: "Changes from v1 to v3" }).waitFor();
      await focusedOnPage();
    });
    await step("a timeline link's diff", async () => {
      await tabTo(/Changes from v2/);
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { name: "Changes from v2 to v3" }).waitFor();
      await focusedOnPage();
    });
    await step("Audit", async () => {
      await tabTo(/^Audit/, 60);
      await page.keyboard.press("Enter");
      await page.getByRole("heading", { level: 1, name: "Audit" }).waitFor();
    });
  });

  it("shows the whole tree to a token that may read everything", async () => {
    const other = await browser.newContext({ viewport: { width: 1280, height: 720 } });
    try {
      const p = await other.newPage();
      await p.goto(`${serve.url}/ui/`);
      await p.getByLabel("Token").fill(pushToken);
      await p.getByRole("button", { name: "Sign in" }).click();
      await p.getByRole("table").waitFor();
      // Parents first: the abstract base, then its children, production-eu under production.
      expect(await p.locator("tbody th[scope=row] > :first-child").allTextContents()).toEqual([
        "base",
        "development",
        "staging",
        "production",
        "production-eu",
      ]);
      await p.screenshot({ path: join(SHOTS, "environments-tree.png"), fullPage: true });
    } finally {
      await other.close();
    }
  });

  it("never sends a secret value, and sends the security headers with every dashboard response", async () => {
    // Every API answer the pages use, fetched directly too (with the cookie's token).
    const auth = { authorization: `Bearer ${readToken}` };
    for (const path of [
      "/ui/api/environments",
      "/ui/api/audit",
      "/ui/api/session",
      "/v1/status",
      "/v1/environments/staging/history",
      "/ui/api/environments/staging/diff?from=1&to=2",
      "/ui/api/environments/production-eu/diff?from=1&to=1",
    ]) {
      const r = await fetch(`${serve.url}${path}`, { headers: auth });
      crawled.push({ url: path, status: r.status, headers: Object.fromEntries(r.headers), body: await r.text() });
    }
    expect(crawled.length).toBeGreaterThan(15);
    for (const { url, body } of crawled)
      for (const s of SECRETS) expect(body.includes(s), `${url} sent ${s}`).toBe(false);
    for (const { url, headers } of crawled.filter((c) => new URL(c.url, serve.url).pathname.startsWith("/ui/"))) {
      expect(headers["content-security-policy"], url).toMatch(/script-src 'self'.*frame-ancestors 'none'/);
      expect(headers["content-security-policy"], url).not.toMatch(/unsafe-inline/);
      expect(headers["x-content-type-options"], url).toBe("nosniff");
      expect(headers["referrer-policy"], url).toBe("no-referrer");
    }
  });
});

describe.skipIf(noBrowser)("the dashboard's auth", () => {
  it("accepts the session cookie for reads only, and only a same-origin login", async () => {
    const cookie = `strata_token=${pushToken}`;
    expect((await fetch(`${serve.url}/v1/environments/staging/history`, { headers: { cookie } })).status).toBe(200);
    expect((await fetch(`${serve.url}/ui/api/environments`)).status).toBe(401);
    // A write with only the cookie is not authenticated: the cookie cannot publish.
    const put = await fetch(`${serve.url}/v1/environments/staging/snapshot`, {
      method: "PUT",
      headers: { cookie, "if-match": '"3"' },
      body: "{}",
    });
    expect(put.status).toBe(401);
    const forged = await fetch(`${serve.url}/ui/login`, {
      method: "POST",
      redirect: "manual",
      headers: { origin: "https://evil.example", "content-type": "application/x-www-form-urlencoded" },
      body: `token=${readToken}`,
    });
    expect(forged.status).toBe(403);
    const ok = await fetch(`${serve.url}/ui/login`, {
      method: "POST",
      redirect: "manual",
      headers: { origin: serve.url, "content-type": "application/x-www-form-urlencoded" },
      body: `token=${encodeURIComponent(readToken)}`,
    });
    expect(ok.status).toBe(303);
    expect(ok.headers.get("set-cookie")).toBe(`strata_token=${readToken}; Path=/; HttpOnly; SameSite=Strict`);
    // Another environment than the token's, through the dashboard's own API.
    expect(
      (
        await fetch(`${serve.url}/ui/api/environments/production/diff?from=1&to=1`, {
          headers: { cookie: `strata_token=${readToken}` },
        })
      ).status,
    ).toBe(403);
  });
});
