// @module-tag e2e
// The dashboard as an incident tool, in a real browser (Debian's chromium driven by playwright-core) against
// a real `strata serve` (the built CLI, open on loopback) on a file store with the example repository pushed:
// outside text shown as it is (bidirectional and invisible characters escaped, non-ASCII names intact, long
// names wrapped), a phone-sized layout, tab titles, the diff's details and links, times that tick (the
// page's clock faked with playwright's clock API), and a connection indicator that says when the server is
// gone and recovers by itself when it is back (the server really stopped and started again).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exampleKeyEnv, projectRoot, strata } from "../support/cli.js";
import {
  checkAccessibility,
  copyExampleRepository,
  CHROMIUM,
  launchBrowser,
  publishScreenshots,
} from "../support/dashboard.js";
import { cleanupTempdirs, commitAll, git, gitdir, tempdir } from "../support/gitdir.js";
import { lacking } from "../support/shared.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";

const noBrowser = lacking("the dashboard in a browser (STRATA_CHROMIUM overrides the path)", { tool: CHROMIUM });
const SIGNING_KEY = join(projectRoot, "examples", "keys", "EXAMPLE-ONLY-NOT-A-REAL-SIGNING-KEY.pem");
/** Where the screenshots go (ignored by git); `STRATA_UPDATE_SCREENSHOTS=1` also copies them to docs/screenshots. */
const SHOTS = join(projectRoot, "tmp", "ui-screenshots-live");

/** A right-to-left override: without escaping, "\u202Eevil" displays as "live". */
const RLO = "\u202E";
const ZWSP = "\u200B";
const HOSTILE_SERVICE = `${RLO}evil`;
/** Non-ASCII (two scripts) and long without a break: must neither be garbled nor widen the page. */
const LONG_INSTANCE = `zürich-東京-${"x".repeat(100)}`;

let repo: string;
let storeDir: string;
let serve: ServeProcess;
let browser: Browser;
let commitV2: string;

async function startServe(port = 0): Promise<ServeProcess> {
  return spawnServe(["--listen", `127.0.0.1:${port}`, "--store", `file:${storeDir}`, "--repo", repo], exampleKeyEnv);
}

async function push(...args: string[]): Promise<void> {
  const r = await strata(["push", "--endpoint", serve.url, "--signing-key", SIGNING_KEY, ...args], {
    cwd: repo,
    env: exampleKeyEnv,
  });
  expect(r.exitCode, r.stderr).toBe(0);
}

/** A client's read, identified the way the SDK does it; the header carries UTF-8 bytes, as HTTP sends them. */
async function clientRead(service: string, instance: string, version: number): Promise<void> {
  const header = Buffer.from(`service=${service}; instance=${instance}; version=${version}; kind=sdk`, "utf8");
  const r = await fetch(`${serve.url}/v1/environments/staging/snapshot`, {
    headers: { "strata-client": header.toString("latin1") },
  });
  expect(r.status).toBe(200);
  await r.body?.cancel();
}

async function newPage(viewport = { width: 1280, height: 860 }): Promise<{ context: BrowserContext; page: Page }> {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(25_000);
  return { context, page };
}

async function withPage<T>(fn: (page: Page) => Promise<T>, viewport?: { width: number; height: number }): Promise<T> {
  const { context, page } = await newPage(viewport);
  try {
    return await fn(page);
  } finally {
    await context.close();
  }
}

const status = (page: Page) => page.getByRole("status");

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  repo = gitdir({});
  copyExampleRepository(repo);
  // push records the origin remote as the snapshot's repository: the page links commits there.
  git(repo, "remote", "add", "origin", "git@github.com:acme/config.git");
  commitAll(repo, "the example repository");
  storeDir = tempdir("strata-ui-live-store-");
  serve = await startServe();
  await push("--all");
  // v2 of staging: a value with a right-to-left override, array items (one with a zero-width space), and a
  // key with an owner and approvers.
  writeFileSync(
    join(repo, "environments/staging/features.yaml"),
    readFileSync(join(repo, "environments/staging/features.yaml"), "utf8").replace(
      "  percent: 50\n",
      `  percent: 50\n  allow_tenants: ["tenant-a", "tenant${ZWSP}b"]\n`,
    ) + `maintenance_banner: "${RLO}evil"\n`,
  );
  writeFileSync(
    join(repo, "environments/staging/database.yaml"),
    readFileSync(join(repo, "environments/staging/database.yaml"), "utf8").replace("max: 25", "max: 30"),
  );
  commitV2 = commitAll(repo, "staging: banner, tenants, a bigger pool");
  await push("--env", "staging");
  await clientRead(HOSTILE_SERVICE, LONG_INSTANCE, 2);
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  publishScreenshots(SHOTS);
  cleanupTempdirs();
});

describe.skipIf(noBrowser)("the dashboard shows outside text as it is", { timeout: 90_000 }, () => {
  it("escapes an RTL override in a client name, keeps a non-ASCII name intact, and wraps a long one", async () => {
    await withPage(async (page) => {
      await page.goto(`${serve.url}/ui/#/fleet`);
      const row = page.getByRole("row").filter({ hasText: "zürich-東京-" });
      await row.waitFor();
      const text = (await row.textContent())!;
      expect(text).toContain("\\u202Eevil");
      expect(text).not.toContain(RLO);
      expect(text).toContain(LONG_INSTANCE);
      // The escape is marked, with the character's name as its tooltip.
      expect(await row.locator(".escaped").first().getAttribute("title")).toBe("right-to-left override");
      // The long name wraps inside its cell: the table is no wider than its box.
      const overflow = await page.evaluate(
        `(() => { const s = document.querySelector("table").parentElement; return s.scrollWidth - s.clientWidth; })()`,
      );
      expect(overflow).toBeLessThanOrEqual(0);
      expect(await page.title()).toBe("Fleet · strata");
    });
  });

  it("escapes bidirectional and zero-width characters in values, in the diff and its array items", async () => {
    await withPage(async (page) => {
      await page.goto(`${serve.url}/ui/#/env/staging/diff/1/2`);
      const banner = page.getByRole("row").filter({ hasText: "features.maintenance_banner" });
      await banner.waitFor();
      expect(await banner.textContent()).toContain('"\\u202Eevil"');
      expect(await banner.textContent()).not.toContain(RLO);
      const tenants = page.getByRole("row").filter({ hasText: "features.new_checkout.allow_tenants" });
      expect(await tenants.textContent()).toContain('"tenant\\u200Bb"');
      expect(await tenants.textContent()).not.toContain(ZWSP);
      expect(await page.title()).toBe("staging: v1 to v2 · strata");
    });
  });
});

describe.skipIf(noBrowser)("the diff", { timeout: 90_000 }, () => {
  it("shows the latest change by default, array items, owners and approvers, and links the commit", async () => {
    await withPage(async (page) => {
      await page.goto(`${serve.url}/ui/#/env/staging`);
      await page.getByRole("heading", { name: "Changes from v1 to v2 (the latest version)" }).waitFor();
      expect(await page.title()).toBe("staging · strata");
      const tenants = page.getByRole("row").filter({ hasText: "features.new_checkout.allow_tenants" });
      // The heading comes with the history; the diff's rows follow with their own request.
      await tenants.locator(".items li").first().waitFor();
      const items = await tenants.locator(".items li").allTextContents();
      expect(items).toEqual(['[0] added: "tenant-a"', '[1] added: "tenant\\u200Bb"']);
      expect(await tenants.textContent()).toContain("@acme/product");
      const pool = page.getByRole("row").filter({ hasText: "database.pool.max" });
      expect(await pool.locator(".owners").textContent()).toBe("Owner@acme/dbaApprovers@acme/dba");
      const commit = page.getByRole("link", { name: `${commitV2.slice(0, 10)} (commit ${commitV2})` });
      expect(await commit.getAttribute("href")).toBe(`https://github.com/acme/config/commit/${commitV2}`);
    });
  });
});

describe.skipIf(noBrowser)("on a phone", { timeout: 120_000 }, () => {
  it("fits 390 px without a horizontal scroll, with no serious axe violation, and names each page in its tab", async () => {
    await withPage(
      async (page) => {
        for (const [hash, ready, title] of [
          ["#/", "table.envs", "Environments · strata"],
          ["#/env/staging", ".diff table", "staging · strata"],
          ["#/fleet", "table", "Fleet · strata"],
          ["#/audit", "main table", "Audit · strata"],
        ] as const) {
          await page.goto(`${serve.url}/ui/${hash}`);
          await page.locator(ready).first().waitFor();
          expect(await page.title()).toBe(title);
          // Only the tables' own boxes may scroll sideways, never the page.
          const pageOverflow = await page.evaluate(
            "document.documentElement.scrollWidth - document.documentElement.clientWidth",
          );
          expect(pageOverflow, hash).toBeLessThanOrEqual(0);
          await checkAccessibility(page, `390px ${hash}`);
          if (hash === "#/env/staging" || hash === "#/fleet")
            await page.screenshot({
              path: join(SHOTS, `phone-${hash.slice(2).replace("/", "-")}.png`),
              fullPage: true,
            });
        }
        expect(await page.evaluate("matchMedia('(max-width: 40rem)').matches")).toBe(true);
      },
      { width: 390, height: 844 },
    );
  });
});

describe.skipIf(noBrowser)("times that tick", { timeout: 90_000 }, () => {
  it("moves relative times, the stale flag, the expiry warning and the last update while the page stays open", async () => {
    await withPage(async (page) => {
      await page.clock.install({ time: Date.now() });
      await clientRead("ticker", "pod-t", 2);
      await page.goto(`${serve.url}/ui/#/fleet`);
      const row = page.getByRole("row").filter({ hasText: "pod-t" });
      await row.waitFor();
      await expect.poll(() => row.textContent()).toMatch(/\ds ago/);
      expect(await row.textContent()).not.toContain("stale");
      // The last update ages. Its page clock must stay short of three heartbeats (45 s) after the last one the
      // tab heard, which can be up to 15 s of real time back (the server's heartbeats are not on the page's
      // clock): past that, the tab takes its stream for dead and reopens it, an update that resets the age.
      await page.clock.fastForward("00:20");
      await expect.poll(() => status(page).textContent()).toMatch(/last update .*\([23]\ds ago\)/);
      await page.clock.fastForward("02:10");
      await expect.poll(() => row.textContent()).toMatch(/\b3m ago/);
      await page.clock.fastForward("04:00");
      await row.getByText("stale").waitFor();

      // The environments page: the age moves, and the expiry warning and flag appear when their time comes.
      await page.goto(`${serve.url}/ui/#/`);
      const staging = page.getByRole("row").filter({ hasText: "staging" }).first();
      await staging.waitFor();
      const expiresAt = Date.parse((await staging.locator("time").nth(1).getAttribute("datetime"))!);
      expect(await staging.textContent()).not.toContain("expires soon");
      await page.clock.setSystemTime(expiresAt - 3600_000);
      await page.clock.runFor(1000);
      await staging.getByText("expires soon").waitFor();
      await page.clock.setSystemTime(expiresAt + 1000);
      await page.clock.runFor(1000);
      await staging.getByText(/^expired /).waitFor();
    });
  });
});

/** A client holding its event stream open, identified the way the SDK does it; `close` ends it. */
async function holdStream(service: string, instance: string, version: number): Promise<{ close(): void }> {
  const ctrl = new AbortController();
  const res = await fetch(`${serve.url}/v1/environments/staging/events`, {
    headers: { "strata-client": `service=${service}; instance=${instance}; version=${version}; kind=sdk` },
    signal: ctrl.signal,
  });
  expect(res.status).toBe(200);
  // Read (and drop) what it sends, so the connection is a live one.
  void (async () => {
    try {
      for await (const _ of res.body!);
    } catch {
      // closed
    }
  })();
  return { close: () => ctrl.abort() };
}

/** The server's count of open event streams (its `strata_watchers{kind="sse"}` gauge). */
async function openStreams(): Promise<number> {
  const text = await (await fetch(`${serve.url}/metrics`)).text();
  return Number(/^strata_watchers\{kind="sse"\} (\d+)$/m.exec(text)![1]);
}

describe.skipIf(noBrowser)("live", { timeout: 150_000 }, () => {
  it("keeps three tabs side by side live, each on one event stream", async () => {
    // One browser profile: its tabs share the six connections HTTP/1.1 allows per server.
    const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
    try {
      const pages: Page[] = [];
      for (const hash of ["#/", "#/fleet", "#/env/development"]) {
        const page = await context.newPage();
        page.setDefaultTimeout(25_000);
        await page.goto(`${serve.url}/ui/${hash}`);
        await status(page).filter({ hasText: /^Live/ }).waitFor();
        pages.push(page);
      }
      // One stream per tab, whatever the number of environments.
      await expect.poll(openStreams, { timeout: 20_000 }).toBe(3);
      writeFileSync(
        join(repo, "environments/development/cache.yaml"),
        readFileSync(join(repo, "environments/development/cache.yaml"), "utf8").replace(
          "ttl_seconds: 5",
          "ttl_seconds: 6",
        ),
      );
      commitAll(repo, "development: a longer cache");
      await push("--env", "development");
      for (const page of pages) await status(page).filter({ hasText: "development is now at version 2" }).waitFor();
      await pages[0]!.getByRole("row").filter({ hasText: "development" }).filter({ hasText: "v2" }).first().waitFor();
      await pages[2]!.locator(".timeline li").filter({ hasText: "v2" }).first().waitFor();
    } finally {
      await context.close();
    }
  });

  it("follows clients on the fleet page as they connect, move, refuse and disconnect, with no publish", async () => {
    await withPage(async (page) => {
      await page.goto(`${serve.url}/ui/#/fleet`);
      await page.getByRole("heading", { level: 1, name: "Fleet" }).waitFor();
      await status(page).filter({ hasText: /^Live/ }).waitFor();
      const row = (instance: string) => page.getByRole("row").filter({ hasText: instance });
      // A client that appears after the page loaded, behind the current version (v2), then catching up.
      await clientRead("mover", "m-1", 1);
      await row("m-1").filter({ hasText: "behind v2" }).waitFor();
      await clientRead("mover", "m-1", 2);
      await expect.poll(() => row("m-1").textContent()).not.toContain("behind");
      expect(await row("m-1").textContent()).toContain("v2");
      // It refuses a version newer than the one it runs.
      const refused = await fetch(`${serve.url}/v1/environments/staging/snapshot`, {
        method: "HEAD",
        headers: {
          "strata-client": "service=mover; instance=m-1; version=2; kind=sdk; rejected=9; reason=digest-mismatch",
        },
      });
      expect(refused.status).toBe(200);
      await row("m-1").filter({ hasText: "refusing v9 digest-mismatch" }).waitFor();
      // Another connects (its event stream), then goes away.
      const held = await holdStream("mover", "m-2", 2);
      await row("m-2").filter({ hasText: "now (connected)" }).waitFor();
      held.close();
      await expect.poll(() => row("m-2").textContent()).toMatch(/Connectedno|\bno\b/);
      expect(await row("m-2").locator('td[data-label="Connected"]').textContent()).toBe("no");
    });
  });

  it("groups the fleet by service and version, filters to problems, and draws the server's propagation histogram", async () => {
    await clientRead("grouped", "g-1", 1);
    await clientRead("grouped", "g-1", 2);
    await clientRead("grouped", "g-2", 2);
    await clientRead("grouped", "g-3", 1);
    await withPage(async (page) => {
      await page.goto(`${serve.url}/ui/#/fleet`);
      const head = (text: string) => page.locator("tr.group-head").filter({ hasText: text });
      await head("grouped · v2: 2 clients").waitFor();
      expect(await head("grouped · v1: 1 client").textContent()).toContain("1 with a problem");
      // g-1 moved to the current version: the server timed it, and the histogram is the server's.
      const figure = page.locator("figure.histogram");
      expect(await figure.locator("figcaption").textContent()).toMatch(/\(\d+ moves seen by this server\)/);
      const label = (await figure.locator("svg").getAttribute("aria-label"))!;
      expect(label.split(", ").reduce((n, part) => n + Number(part.split(": ")[1]), 0)).toBeGreaterThan(0);

      await page.getByRole("checkbox", { name: /Problems only/ }).check();
      await expect.poll(() => page.getByRole("row").filter({ hasText: "g-1" }).count()).toBe(0);
      expect(await page.getByRole("row").filter({ hasText: "g-2" }).count()).toBe(0);
      expect(await head("grouped · v2").count()).toBe(0);
      expect(await page.getByRole("row").filter({ hasText: "g-3" }).textContent()).toContain("behind v2");
    });
  });

  it("never calls a connected client stale, however long its stream has been open", async () => {
    await withPage(async (page) => {
      await page.clock.install({ time: Date.now() });
      const held = await holdStream("holder", "h-1", 2);
      try {
        await clientRead("asker", "a-1", 2);
        await page.goto(`${serve.url}/ui/#/fleet`);
        await page.getByRole("row").filter({ hasText: "h-1" }).waitFor();
        await page.clock.fastForward("06:00");
        // The one that only asked once is stale by now; the one holding its stream open is not.
        await page.getByRole("row").filter({ hasText: "a-1" }).getByText("stale").waitFor();
        const holder = page.getByRole("row").filter({ hasText: "h-1" });
        expect(await holder.textContent()).not.toContain("stale");
        expect(await holder.locator('td[data-label="Connected"]').textContent()).toBe("yes");
      } finally {
        held.close();
      }
    });
  });
});

describe.skipIf(noBrowser)("the connection", { timeout: 120_000 }, () => {
  it("notices a stream that went silent (a server that stopped without closing it), and recovers", async () => {
    await withPage(async (page) => {
      await page.clock.install({ time: Date.now() });
      await page.goto(`${serve.url}/ui/#/fleet`);
      await page.getByRole("heading", { level: 1, name: "Fleet" }).waitFor();
      await status(page).filter({ hasText: /^Live/ }).waitFor();
      // Frozen, not gone: the kernel keeps the connections open and accepts new ones, nothing answers, and
      // no error ever reaches the page. Only the missing heartbeats can tell.
      serve.child.kill("SIGSTOP");
      try {
        await expect
          .poll(
            async () => {
              await page.clock.fastForward("00:05");
              return status(page).textContent();
            },
            { timeout: 60_000, interval: 200 },
          )
          .toContain("Connection lost");
      } finally {
        serve.child.kill("SIGCONT");
      }
      await expect
        .poll(
          async () => {
            await page.clock.fastForward("00:05");
            return status(page).textContent();
          },
          { timeout: 60_000, interval: 200 },
        )
        .toMatch(/^Live/);
    });
  });

  it("retries a first load that failed, without a reload", async () => {
    await withPage(async (page) => {
      let refused = 0;
      // The first request for the environments finds no server (the connection refused): the page must not
      // stay blank.
      await page.route(
        "**/ui/api/environments",
        async (route) => {
          refused += 1;
          await route.abort("connectionrefused");
        },
        { times: 1 },
      );
      await page.goto(`${serve.url}/ui/#/`);
      await page.locator("table.envs").waitFor();
      expect(refused).toBe(1);
      await status(page).filter({ hasText: /^Live/ }).waitFor();
    });
  });

  it("says when the server is gone, keeps what it showed, and recovers by itself when it is back", async () => {
    await withPage(async (page) => {
      await page.goto(`${serve.url}/ui/#/env/staging`);
      await page.locator(".timeline li").filter({ hasText: "v2" }).first().waitFor();
      await status(page).filter({ hasText: /^Live/ }).waitFor();
      await page.evaluate("window.marker = 7");

      const port = new URL(serve.url).port;
      await serve.stop();
      await status(page).filter({ hasText: "Connection lost" }).waitFor();
      expect(await status(page).textContent()).toMatch(/not answering \(since \d\d:\d\d:\d\dZ\).*last update/);
      // What was shown stays, marked as of the last update.
      expect(await page.locator(".timeline li").count()).toBe(2);
      await page.screenshot({ path: join(SHOTS, "connection-lost.png") });

      // The same server again (same port, same store), and a version published while the page waited.
      serve = await startServe(Number(port));
      writeFileSync(
        join(repo, "environments/staging/database.yaml"),
        readFileSync(join(repo, "environments/staging/database.yaml"), "utf8").replace("max: 30", "max: 35"),
      );
      commitAll(repo, "an even bigger staging pool");
      await push("--env", "staging");
      await status(page).filter({ hasText: /^Live/ }).waitFor({ timeout: 60_000 });
      await page.locator(".timeline li").filter({ hasText: "v3" }).first().waitFor();
      await page.getByRole("heading", { name: "Changes from v2 to v3 (the latest version)" }).waitFor();
      expect(await page.evaluate("window.marker")).toBe(7);
    });
  });
});
