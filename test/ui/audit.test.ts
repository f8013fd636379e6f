// @module-tag e2e
// The dashboard's trust and scale in a real browser (Debian's chromium driven by playwright-core) against a
// real `strata serve` (the built CLI, with tokens and --repo) on a file store with the example repository
// pushed: who pushed and approved a version as its signed snapshot says, with an edited history line shown
// as a break (item 9); the timeline and the audit a page at a time (item 10); one status row per
// environment with its clients, a corrupt store file, missing approvals and drift from HEAD (item 12); the
// dashboard's files compressed with a favicon, and a revoked token's open page sent back to the login
// (item 13).
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { chromium, type Browser, type BrowserContext, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  computeContentDigest,
  createSnapshot,
  parseSigningKey,
  serializeSnapshot,
  type Snapshot,
} from "../../src/core/snapshot/index.js";
import { openStore } from "../../src/io/stores/index.js";
import { createToken } from "../../src/server/tokens.js";
import { exampleKeyEnv, projectRoot, strata } from "../support/cli.js";
import { copyExampleRepository, publishScreenshots } from "../support/dashboard.js";
import { cleanupTempdirs, commitAll, git, gitdir, tempdir } from "../support/gitdir.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import { lacking } from "../support/shared.js";

const CHROMIUM = process.env.STRATA_CHROMIUM ?? "/usr/bin/chromium";
const noBrowser = lacking("the dashboard in a browser (STRATA_CHROMIUM overrides the path)", { tool: CHROMIUM });
const SIGNING_KEY = join(projectRoot, "examples", "keys", "EXAMPLE-ONLY-NOT-A-REAL-SIGNING-KEY.pem");
const SHOTS = join(projectRoot, "tmp", "ui-screenshots-audit");
/** Versions of the generated environment: more than two pages of 25. */
const MANY = 60;
const axeSource = readFileSync(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

let repo: string;
let storeDir: string;
let tokensFile: string;
let serve: ServeProcess;
let browser: Browser;
let context: BrowserContext;
let page: Page;
let readToken: string;
let pushToken: string;
let revocable: string;

async function push(...args: string[]): Promise<void> {
  const r = await strata(["push", "--endpoint", serve.url, "--signing-key", SIGNING_KEY, ...args], {
    cwd: repo,
    env: { ...exampleKeyEnv, STRATA_TOKEN: pushToken },
  });
  expect(r.exitCode, r.stderr).toBe(0);
}

/** axe-core on the current page: no serious or critical violation. */
async function checkAccessibility(p: Page, name: string): Promise<void> {
  await p.evaluate(axeSource);
  const result = (await p.evaluate(`axe.run(document, { resultTypes: ["violations"] })`)) as {
    violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[];
  };
  const bad = result.violations.filter((v) => v.impact === "serious" || v.impact === "critical");
  expect(
    bad.map((v) => `${name}: ${v.id} (${v.impact}) ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`),
  ).toEqual([]);
}

async function signIn(p: Page, token: string): Promise<void> {
  await p.goto(`${serve.url}/ui/`);
  await p.getByLabel("Token").fill(token);
  await p.getByRole("button", { name: "Sign in" }).click();
  await p.getByRole("heading", { level: 1, name: "Environments" }).waitFor();
}

/** `MANY` versions of an environment no push knows, signed with the example key, straight into the store. */
async function publishMany(): Promise<void> {
  const key = parseSigningKey(readFileSync(SIGNING_KEY, "utf8"));
  const store = await openStore(`file:${storeDir}`);
  try {
    let previous: string | null = null;
    for (let v = 1; v <= MANY; v++) {
      const config = { app: { replicas: v } };
      const s: Snapshot = createSnapshot(
        {
          environment: "load-test",
          version: v,
          previous,
          createdAt: new Date(),
          source: {
            repository: "acme/config",
            commit: v.toString(16).padStart(40, "0"),
            pullRequest: 100 + v,
            approvedBy: ["alice"],
            pushedBy: "release-bot",
            pullRequests: [{ number: 100 + v, approvedBy: ["alice"], emergency: false }],
          },
          contentDigest: computeContentDigest(config, []),
          config,
          secrets: null,
        },
        [key],
      );
      const r = await store.publish({
        snapshot: s,
        text: serializeSnapshot(s),
        expected: v - 1,
        action: "publish",
        actor: "ci",
      });
      expect(r.ok).toBe(true);
      previous = s.digest;
    }
  } finally {
    await store.close();
  }
}

beforeAll(async () => {
  mkdirSync(SHOTS, { recursive: true });
  repo = gitdir({});
  copyExampleRepository(repo);
  commitAll(repo, "the example repository");
  storeDir = tempdir("strata-ui-audit-store-");
  tokensFile = join(tempdir("strata-ui-audit-tokens-"), "tokens.json");
  readToken = (await createToken(tokensFile, { scopes: ["read:*"], name: "on-call" })).token;
  pushToken = (await createToken(tokensFile, { scopes: ["push:*"], name: "ci" })).token;
  revocable = (await createToken(tokensFile, { scopes: ["read:staging"], name: "contractor" })).token;
  serve = await spawnServe(["--store", `file:${storeDir}`, "--tokens", tokensFile, "--repo", repo], exampleKeyEnv);
  await push("--all");
  writeFileSync(
    join(repo, "environments/staging/database.yaml"),
    readFileSync(join(repo, "environments/staging/database.yaml"), "utf8").replace("max: 25", "max: 30"),
  );
  commitAll(repo, "a bigger staging pool");
  await push("--env", "staging");
  await publishMany();
  // The pushes above recorded only the directory's name as the repository; the server learns where it
  // lives from the origin remote (credentials never shown), read at the dashboard's first request.
  git(repo, "remote", "add", "origin", "https://user:secret@github.com/acme/config.git");

  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
  });
  context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  page = await context.newPage();
  page.setDefaultTimeout(25_000);
  await signIn(page, readToken);
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  publishScreenshots(SHOTS);
  cleanupTempdirs();
});

describe.skipIf(noBrowser)("the dashboard shows only what is signed, a page at a time", { timeout: 120_000 }, () => {
  it("shows who approved a version from its signed snapshot, and an edited history line as a broken chain", async () => {
    // Someone with the store's disk edits staging v1's history line: invented approvers, another pusher, an
    // emergency.
    const file = join(storeDir, "envs", "staging", "history.jsonl");
    const lines = readFileSync(file, "utf8").split("\n");
    const entry = JSON.parse(lines[0]!) as { source: Record<string, unknown>; emergency: boolean };
    entry.source.approvedBy = ["mallory-approved-this"];
    entry.source.pushedBy = "trusted-release-bot";
    entry.emergency = true;
    lines[0] = JSON.stringify(entry);
    writeFileSync(file, lines.join("\n"));

    await page.goto(`${serve.url}/ui/#/env/staging`);
    const v1 = page.locator(".timeline li").filter({ hasText: /^v1\b/ });
    await v1.waitFor();
    await expect.poll(() => v1.textContent()).toContain("history-mismatch");
    const text = (await page.locator("main").textContent()) ?? "";
    expect(text).not.toContain("mallory-approved-this");
    expect(text).not.toContain("trusted-release-bot");
    expect(await v1.locator(".badge", { hasText: "emergency" }).count()).toBe(0);

    await page.getByRole("link", { name: "Audit", exact: true }).click();
    await page.getByText("1 chain is broken.").waitFor();
    await page.getByRole("heading", { name: /staging.*chain broken at v1/ }).waitFor();
    expect(await page.getByRole("alert").first().textContent()).toMatch(/v1: history-mismatch/);
    await checkAccessibility(page, "audit with an edited history line");
    await page.screenshot({ path: join(SHOTS, "audit-history-edited.png"), fullPage: true });
  });

  it("pages the timeline and one environment's audit, 25 versions at a time", async () => {
    await page.goto(`${serve.url}/ui/#/env/load-test`);
    const items = page.locator(".timeline > li");
    await items.first().waitFor();
    await expect.poll(() => items.count()).toBe(25);
    expect(await items.first().textContent()).toMatch(/^v60\b/);
    expect(await page.locator("main").textContent()).toContain(`${MANY} versions`);
    const height = Number(await page.evaluate("document.documentElement.scrollHeight"));
    await page.getByRole("button", { name: "Older versions (before v36)" }).click();
    await expect.poll(() => items.count()).toBe(50);
    expect(await items.nth(25).textContent()).toMatch(/^v35\b/);
    await page.getByRole("button", { name: "Older versions (before v11)" }).click();
    await expect.poll(() => items.count()).toBe(MANY);
    expect(await page.getByRole("button", { name: /Older versions/ }).count()).toBe(0);
    // The first page's height is that of 25 versions, not of 60.
    expect(height).toBeLessThan(Number(await page.evaluate("document.documentElement.scrollHeight")) * 0.6);

    await page.goto(`${serve.url}/ui/#/audit`);
    await page.getByRole("link", { name: "load-test" }).click();
    await page.getByRole("heading", { level: 1, name: "Audit of load-test" }).waitFor();
    const rows = page.locator("tbody tr");
    await expect.poll(() => rows.count()).toBe(25);
    expect(await rows.first().textContent()).toContain("release-bot");
    await checkAccessibility(page, "audit of one environment");
    await page.getByRole("button", { name: /Older versions/ }).click();
    await expect.poll(() => rows.count()).toBe(50);
  });

  it("gives each environment one status row: clients, store-corrupt, missing approvals, drift", async () => {
    const ask = async (client: string): Promise<void> => {
      const r = await fetch(`${serve.url}/v1/environments/staging/snapshot`, {
        method: "HEAD",
        headers: { authorization: `Bearer ${readToken}`, "strata-client": client },
      });
      expect(r.status).toBe(200);
    };
    await ask("service=checkout; instance=pod-a; version=2; kind=sdk");
    await ask("service=checkout; instance=pod-b; version=1; kind=sdk");
    await ask("service=checkout; instance=pod-c; version=1; kind=agent; rejected=2; reason=invalid-signature");
    // development's only version, edited on disk: it does not verify any more.
    const dev = join(storeDir, "envs", "development", "v", "000000000001.json");
    writeFileSync(dev, readFileSync(dev, "utf8").replace('"apiVersion":1', '"apiVersion":1,"forged":true'));
    // HEAD moves past what staging serves: a change not published.
    writeFileSync(
      join(repo, "environments/staging/database.yaml"),
      readFileSync(join(repo, "environments/staging/database.yaml"), "utf8").replace("max: 30", "max: 40"),
    );
    commitAll(repo, "an even bigger staging pool, not pushed");

    await page.goto(`${serve.url}/ui/#/`);
    const row = (name: string) => page.getByRole("row").filter({ has: page.getByRole("link", { name, exact: true }) });
    const staging = row("staging");
    await staging.waitFor();
    await expect
      .poll(() => staging.textContent())
      .toContain("1 of 3 clients on it, 1 behind, 1 rejecting (invalid-signature)");
    expect(await staging.textContent()).toMatch(/drift: HEAD \(\w+\) changed 1 file, not published/);
    const commit = staging.locator("td[data-label=Commit] a").first();
    expect(await commit.getAttribute("href")).toMatch(/^https:\/\/github\.com\/acme\/config\/commit\/[0-9a-f]{40}$/);
    expect(await page.content()).not.toContain("secret@");
    const production = row("production");
    expect(await production.textContent()).toContain("published without the approvals its rules require");
    expect(await production.getAttribute("class")).toContain("bad-row");
    expect(await production.textContent()).toContain("nothing of this environment changed");
    const development = row("development");
    expect(await development.textContent()).toContain("store-corrupt");
    expect(await development.getAttribute("class")).toContain("bad-row");
    expect(await staging.getAttribute("class")).not.toContain("bad-row");
    const red = await page.evaluate(`getComputedStyle(document.querySelector("tr.bad-row td")).color`);
    expect(red).toBe("rgb(164, 14, 38)");
    await checkAccessibility(page, "environments with their status");
    await page.screenshot({ path: join(SHOTS, "environments-status.png"), fullPage: true });
  });

  it("loads the dashboard's files compressed, with a favicon", async () => {
    const other = await browser.newContext();
    try {
      const p = await other.newPage();
      const seen = new Map<string, { status: number; encoding: string | undefined }>();
      p.on("response", (r) => {
        const name = new URL(r.url()).pathname;
        seen.set(name, { status: r.status(), encoding: r.headers()["content-encoding"] });
      });
      await p.goto(`${serve.url}/ui/`);
      await p.getByRole("heading", { name: "Sign in to the strata dashboard" }).waitFor();
      await expect.poll(() => seen.get("/ui/favicon.svg")?.status).toBe(200);
      expect(seen.get("/ui/app.js")?.encoding).toMatch(/^(br|gzip)$/);
      expect(seen.get("/ui/app.css")?.encoding).toMatch(/^(br|gzip)$/);
    } finally {
      await other.close();
    }
  });

  it("sends an open page back to the login when its token is revoked", async () => {
    const other = await browser.newContext();
    try {
      const p = await other.newPage();
      await signIn(p, revocable);
      await p.goto(`${serve.url}/ui/#/env/staging`);
      await p.getByRole("heading", { level: 1, name: "staging" }).waitFor();
      await p.evaluate("window.marker = 7");
      // Revoke: the tokens file without the contractor's token, re-read on SIGHUP.
      const doc = JSON.parse(readFileSync(tokensFile, "utf8")) as { tokens: { name: string }[] };
      doc.tokens = doc.tokens.filter((t) => t.name !== "contractor");
      writeFileSync(tokensFile, JSON.stringify(doc, null, 2));
      serve.child.kill("SIGHUP");
      await p.getByRole("heading", { name: "Sign in to the strata dashboard" }).waitFor();
    } finally {
      await other.close();
    }
  });
});
