// @module-tag e2e
// The dashboard's audit page lists the rollouts' decisions and operators' actions (read-only), in a real
// browser (Debian's chromium driven by playwright-core) against the real endpoint in-process running a
// rollout: an operator's pause with the token that acted, and the rollback the error-rate gate made by
// itself with the breach's numbers; a token that may not read the environment sees none of them.
import type { Browser, Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RolloutStatusDocument } from "../../src/core/protocol/index.js";
import { createToken, readTokens } from "../../src/server/index.js";
import { checkAccessibility, CHROMIUM, launchBrowser } from "../support/dashboard.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { lacking } from "../support/shared.js";
import {
  CANARY,
  postReports,
  push,
  report,
  startRolloutServer,
  version,
  type RolloutServer,
} from "../server/rollout-support.js";

const noBrowser = lacking("the dashboard's audit page in a browser (STRATA_CHROMIUM overrides the path)", {
  tool: CHROMIUM,
});

let server: RolloutServer;
let browser: Browser;
let viewer = "";
let outsider = "";

async function status(token: string): Promise<RolloutStatusDocument> {
  const res = await fetch(`${server.url}/v1/environments/staging/rollout`, {
    headers: { authorization: `Bearer ${token}` },
  });
  return (await res.json()) as RolloutStatusDocument;
}

beforeAll(async () => {
  if (noBrowser) return;
  const file = `${tempdir("strata-ui-rollout-audit-")}/tokens.json`;
  const operator = (await createToken(file, { scopes: ["push:staging"], name: "release-bot" })).token;
  viewer = (await createToken(file, { scopes: ["read:*", "report:staging"], name: "viewer" })).token;
  outsider = (await createToken(file, { scopes: ["read:production"], name: "outsider" })).token;
  server = await startRolloutServer({ policy: CANARY, intervalMs: 100, tokens: await readTokens(file) });
  const v1 = version(1, null);
  expect((await push(server.url, v1, operator)).status).toBe(201);
  expect((await push(server.url, version(2, v1), operator)).status).toBe(201);
  const paused = await fetch(`${server.url}/v1/environments/staging/rollout/pause`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${operator}` },
    body: JSON.stringify({ reason: "watching the canary" }),
  });
  expect(paused.status).toBe(200);
  // A breach rolls back even a paused rollout.
  const res = await postReports(
    server.url,
    [
      report("canary-a", 2, 20_000, 2_000),
      report("canary-b", 2, 20_000, 2_000),
      report("stable-a", 1, 50_000, 500),
      report("stable-b", 1, 50_000, 500),
    ],
    viewer,
  );
  expect(res.status).toBe(202);
  while ((await status(viewer)).state?.phase !== "rolled-back") await new Promise((r) => setTimeout(r, 50));
  browser = await launchBrowser();
});

afterAll(async () => {
  await browser?.close();
  await server?.close();
  cleanupTempdirs();
});

async function auditPage(token: string, fn: (page: Page) => Promise<void>): Promise<void> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  try {
    await page.goto(`${server.url}/ui/`);
    await page.getByLabel("Token").fill(token);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("heading", { level: 1, name: "Environments" }).waitFor();
    await page.goto(`${server.url}/ui/#/audit`);
    await page.getByRole("heading", { level: 2, name: "Rollout decisions and actions" }).waitFor();
    await fn(page);
  } finally {
    await context.close();
  }
}

describe.skipIf(noBrowser)("the audit page's rollouts", () => {
  it("shows the operator's pause with its token and the gate's rollback with the breach, newest first", async () => {
    await auditPage(viewer, async (page) => {
      const table = page.getByRole("region", { name: "Rollout decisions and actions" });
      const rows = table.getByRole("row");
      const texts = (await rows.allInnerTexts()).slice(1);
      const actions = texts.map((t) => (/\b(start|pause|hold|rollback)\b/.exec(t) ?? [""])[0]);
      expect(actions[0]).toBe("rollback");
      expect(actions.at(-1)).toBe("start");
      expect(actions).toContain("pause");
      const rollback = texts[0]!;
      expect(rollback).toContain("staging@v2.p1");
      expect(rollback).toContain("the gate error-rate");
      expect(rollback).toContain("rolled-back at 0%");
      expect(rollback).toMatch(/error-rate 10% against 1% on the stable version/);
      expect(rollback).toMatch(/threshold \+1 pts; samples 40,000 \/ 100,000/);
      const pause = texts.find((t) => /\bpause\b/.test(t))!;
      expect(pause).toContain("token release-bot");
      expect(pause).toContain("watching the canary");
      expect(pause).toContain("paused at 5%");
      // Read-only: nothing on the page acts on a rollout.
      expect(await table.getByRole("button").count()).toBe(0);
      await checkAccessibility(page, "the audit page with rollouts");
    });
  });

  it("shows a token no rollout of an environment it may not read", async () => {
    await auditPage(outsider, async (page) => {
      await expect(page.getByText("No rollout decision or action is recorded.").isVisible()).resolves.toBe(true);
    });
  });
});
