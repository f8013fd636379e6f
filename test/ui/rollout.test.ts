// @module-tag e2e
// The dashboard's rollout view (docs/dashboard.md, "The rollout"), in a real browser (Debian's chromium driven by
// playwright-core) against a real `strata serve` (the built CLI) running rollouts with a rollout key: a canary
// of half the fleet after a push, shown on the environment page and under the environment on the fleet page
// (clients on the stable version are in the stable cohort, not behind), then a breach of the error-rate gate
// reported by the clients: the endpoint rolls back by itself and the open pages follow from the tab's one event
// stream, without a reload, naming the metric, the values, the threshold, the samples and the interval.
// The fleet during the rollout is docs/screenshots/fleet-rollout.png (STRATA_UPDATE_SCREENSHOTS=1).
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { projectRoot } from "../support/cli.js";
import { checkAccessibility, CHROMIUM, launchBrowser, publishScreenshots } from "../support/dashboard.js";
import { cleanupTempdirs } from "../support/gitdir.js";
import { startCanary } from "../support/rollout-e2e.js";
import type { ServeProcess } from "../support/serve.js";
import { lacking } from "../support/shared.js";

const noBrowser = lacking("the dashboard's rollout view in a browser (STRATA_CHROMIUM overrides the path)", {
  tool: CHROMIUM,
});
const SHOTS = join(projectRoot, "tmp", "ui-screenshots-rollout");

const INSTANCES = Array.from({ length: 10 }, (_, i) => `checkout-${i}`);

let serve: ServeProcess;
let browser: Browser;
/** Which version the plan gives each instance. */
let assigned: Map<string, number>;

/**
 * The fleet's health reports in one batch (the SDK sends one per instance; one batch here so that the rollout's
 * decision, whenever its loop runs, sees all of them or none: the samples it names are known).
 */
async function reportAll(reports: { instance: string; version: number; requests: number; errors: number }[]) {
  const res = await fetch(`${serve.url}/v1/environments/production/reports`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ reports: reports.map((r) => ({ ...r, intervalMs: 10_000 })) }),
  });
  expect(res.status).toBe(202);
  expect(await res.json()).toMatchObject({ accepted: reports.length, refused: [] });
}

async function withPage<T>(fn: (page: Page) => Promise<T>): Promise<T> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  page.setDefaultTimeout(30_000);
  try {
    return await fn(page);
  } finally {
    await context.close();
  }
}

const rolloutRegion = (page: Page) => page.getByRole("region", { name: /^Rollout/ });

beforeAll(async () => {
  if (noBrowser) return;
  mkdirSync(SHOTS, { recursive: true });
  ({ serve, assigned } = await startCanary({
    service: "checkout",
    instances: INSTANCES,
    gates: ["{ metric: error-rate, max_increase: 2%, min_samples: 500 }"],
    change: { text: "replicas: 4\n", message: "production: four replicas" },
  }));
  browser = await launchBrowser();
}, 180_000);

afterAll(async () => {
  await browser?.close();
  await serve?.stop();
  publishScreenshots(SHOTS);
  cleanupTempdirs();
});

describe.skipIf(noBrowser)("the dashboard's rollout view", { timeout: 120_000 }, () => {
  it("the environment page shows the canary: phase, share, versions, plan, clients, why", async () => {
    const candidates = [...assigned.values()].filter((v) => v === 2).length;
    expect(candidates).toBe(5); // the plan's boundary is calibrated on the known fleet: exactly half
    await withPage(async (page) => {
      await page.goto(`${serve.url}/ui/#/env/production`);
      const panel = rolloutRegion(page);
      await panel.getByText("v1 → v2").waitFor();
      const text = (await panel.textContent())!;
      expect(text).toContain("progressing");
      expect(text).toContain("50% of clients on the candidate");
      expect(text).toMatch(/plan \d+/);
      expect(text).toContain(`Clients: ${candidates} on the candidate, ${10 - candidates} on the stable version.`);
      expect(text).toContain("Read-only: pause, resume, abort and promote with strata rollout.");
      expect(await panel.getByRole("progressbar", { name: "Share of clients on v2" }).getAttribute("value")).toBe(
        "5000",
      );
      // Read-only: no control that acts on the rollout.
      expect(await panel.getByRole("button").count()).toBe(0);
      await checkAccessibility(page, "environment with a rollout");
    });
  });

  it("the fleet during the rollout: the stable cohort is not behind, each client's cohort is named", async () => {
    await withPage(async (page) => {
      await page.goto(`${serve.url}/ui/#/fleet`);
      const panel = rolloutRegion(page);
      await panel.getByText("v1 → v2").waitFor();
      await page.getByRole("row").filter({ hasText: "checkout-9" }).waitFor();
      for (const [instance, version] of assigned) {
        const row = page.getByRole("row").filter({ hasText: instance });
        const text = (await row.textContent())!;
        expect(text, instance).toContain(version === 2 ? "candidate" : "stable");
        expect(text, instance).not.toContain("behind");
      }
      expect(await page.getByText(/with a problem/).count()).toBe(0);
      await checkAccessibility(page, "fleet during a rollout");
      await page.screenshot({ path: join(SHOTS, "fleet-rollout.png"), fullPage: true });
    });
  });

  it("what the clients refused: a candidate-cohort client that refused the candidate is named", async () => {
    const [refuser] = [...assigned].find(([, version]) => version === 2)!;
    await withPage(async (page) => {
      await page.goto(`${serve.url}/ui/#/env/production`);
      const panel = rolloutRegion(page);
      await panel.getByText("v1 → v2").waitFor();
      expect(await panel.getByRole("list").filter({ hasText: "refused" }).count()).toBe(0);
      // Its own report: still on v1, it refused v2 (serves nothing yet, so no samples for the gate).
      const res = await fetch(`${serve.url}/v1/environments/production/reports`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          reports: [
            {
              instance: refuser,
              version: 1,
              requests: 0,
              errors: 0,
              intervalMs: 10_000,
              rejected: { snapshot: { "invalid-signature": 1 } },
            },
          ],
        }),
      });
      expect(await res.json()).toMatchObject({ accepted: 1, refused: [] });
      // Reports are not rollout events: the panel reads them with the status (on load, and on each decision).
      await page.reload();
      const item = panel.getByRole("listitem").filter({ hasText: "refused" });
      await item.waitFor();
      expect(await item.textContent()).toBe(
        "candidate cohort on v1: of 1 reporting instance, 1 refused (snapshots: invalid-signature 1): they refused the candidate or its plan, and never ran v2",
      );
      await checkAccessibility(page, "a rollout with refusals");
    });
  });

  it("a breach: the endpoint rolls back by itself and the open page says why, without a reload", async () => {
    await withPage(async (page) => {
      await page.goto(`${serve.url}/ui/#/env/production`);
      const panel = rolloutRegion(page);
      await panel.getByText("v1 → v2").waitFor();
      await page.evaluate(() => ((globalThis as unknown as { kept: number }).kept = 1));
      // The candidate's clients fail 20% of their requests, the control's 1%: 1,000 requests each.
      await reportAll(
        [...assigned].map(([instance, version]) => ({
          instance,
          version,
          requests: 1000,
          errors: version === 2 ? 200 : 10,
        })),
      );
      await panel.getByText("rolled-back", { exact: true }).waitFor();
      expect(await page.evaluate(() => (globalThis as unknown as { kept?: number }).kept)).toBe(1);
      await panel.getByText("Rolled back on:").waitFor();
      const text = (await panel.textContent())!;
      expect(text).toMatch(
        /error-rate: error-rate 20% against 1% on the stable version \(\+19 pts, interval \+\d+(\.\d+)? pts to \+\d+(\.\d+)? pts at 99%\); threshold \+2 pts; samples 5,000 \/ 5,000/,
      );
      expect(text).toMatch(/Last decision: rollback .* by strata serve/);
      const gates = page.getByRole("table", { name: /Gates at the last evaluation/ });
      expect(await gates.getByRole("row").filter({ hasText: "breach" }).count()).toBe(1);
      await checkAccessibility(page, "a rolled-back rollout");
      await page.screenshot({ path: join(SHOTS, "environment-rolled-back.png"), fullPage: true });
    });
  });
});
