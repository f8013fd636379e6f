#!/usr/bin/env node
// The dashboard's fleet page at scale: bytes per minute one open fleet tab costs, against the real
// `strata serve` (the built CLI) on a file store of 50 environments × 500 versions with 4 clients per
// environment, in headless chromium (Debian's, driven by playwright-core), counted by the browser itself
// (the DevTools protocol's bytes received per request, headers included, the open event stream included),
// and the server's CPU time over the same minute (/proc/PID/stat: user + system).
//
//   node bench/dashboard-fleet.bench.mjs [--envs 50] [--versions 500] [--seconds 60] [--before DIR]
//
// Two phases per build: idle (nothing happens for --seconds), then busy (a client moves every 5 s). With
// --before DIR (a checkout of an earlier commit, built: `npx tsc -p tsconfig.build.json && node
// scripts/build-ui.mjs`), the same store and the same clients are measured against its CLI too, side by
// side. Needs dist/ (npm run build) and /usr/bin/chromium (STRATA_CHROMIUM overrides).
import { spawn } from "node:child_process";
import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { chromium } from "playwright-core";
import { listeningUrl, root, tmp } from "./lib.mjs";

const { values: opts } = parseArgs({
  options: {
    envs: { type: "string", default: "50" },
    versions: { type: "string", default: "500" },
    seconds: { type: "string", default: "60" },
    before: { type: "string" },
  },
});
const ENVS = Number(opts.envs);
const VERSIONS = Number(opts.versions);
const SECONDS = Number(opts.seconds);
const CLIENTS_PER_ENV = 4;

const { createSnapshot, computeContentDigest, serializeSnapshot, generateSigningKey, parseSigningKey } = await import(
  join(root, "dist", "core", "snapshot", "index.js")
);
const { createHistoryEntry, headOf, padVersion } = await import(join(root, "dist", "io", "stores", "store.js"));

/** The store, written straight in the file store's layout (a publish's fsyncs would take minutes here). */
function buildStore() {
  const dir = tmp("strata-bench-fleet-");
  const { pem } = generateSigningKey();
  const key = parseSigningKey(pem);
  const keysFile = join(dir, "..", `${dir.split("/").pop()}-trusted.txt`);
  writeFileSync(keysFile, key.publicKey.text + "\n");
  const start = Date.now() - VERSIONS * 60_000;
  for (let e = 0; e < ENVS; e++) {
    const environment = `env-${String(e).padStart(2, "0")}`;
    const envDir = join(dir, "envs", environment);
    mkdirSync(join(envDir, "v"), { recursive: true });
    let previous = null;
    let lines = "";
    let last = null;
    for (let v = 1; v <= VERSIONS; v++) {
      const config = {
        app: { name: environment, replicas: v % 7, region: "eu-west-1", features: { a: true, b: v % 2 === 0 } },
        database: { host: `db-${e}.internal`, pool: { max: 10 + (v % 5), min: 1 } },
      };
      const at = new Date(start + v * 60_000);
      const snapshot = createSnapshot(
        {
          environment,
          version: v,
          previous,
          createdAt: at,
          source: { repository: "acme/config", pushedBy: "bench", commit: "0".repeat(40) },
          contentDigest: computeContentDigest(config, [[`v${v}`, "0"]]),
          config,
          secrets: null,
        },
        [key],
      );
      writeFileSync(join(envDir, "v", `${padVersion(v)}.json`), serializeSnapshot(snapshot));
      last = createHistoryEntry({ snapshot, action: "publish", actor: "bench" }, at.toISOString());
      lines += JSON.stringify(last) + "\n";
      previous = snapshot.digest;
    }
    writeFileSync(join(envDir, "history.jsonl"), lines);
    writeFileSync(join(envDir, "head.json"), JSON.stringify(headOf(last)));
  }
  return { dir, keysFile };
}

async function startServe(cli, store) {
  const child = spawn(
    process.execPath,
    [cli, "serve", "--listen", "127.0.0.1:0", "--store", `file:${store.dir}`, "--trusted-keys", store.keysFile],
    {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...process.env, NO_COLOR: "1" },
    },
  );
  const url = await listeningUrl(child);
  return { url, child, stop: () => new Promise((r) => (child.once("exit", r), child.kill("SIGTERM"))) };
}

async function clientRead(url, environment, instance, version) {
  const r = await fetch(`${url}/v1/environments/${environment}/snapshot`, {
    method: "HEAD",
    headers: { "strata-client": `service=svc-${instance % 2}; instance=i-${instance}; version=${version}; kind=sdk` },
  });
  if (r.status !== 200) throw new Error(`client read: ${r.status}`);
}

/** CPU seconds (user + system) a process has used so far (Linux, 100 clock ticks per second). */
function cpuSeconds(pid) {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8")
    .replace(/^.*\) /, "")
    .split(" ");
  // After the command: utime and stime are the 12th and 13th fields.
  return (Number(fields[11]) + Number(fields[12])) / 100;
}

/** Bytes the tab receives while `during` runs (after its page is loaded and settled). */
async function measure(browser, url, pid, waitForHeartbeat, during) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const page = await context.newPage();
  const cdp = await context.newCDPSession(page);
  await cdp.send("Network.enable");
  const finished = new Map();
  const streaming = new Map();
  let counting = false;
  let requests = 0;
  cdp.on("Network.requestWillBeSent", () => counting && requests++);
  cdp.on("Network.dataReceived", (e) => {
    if (counting) streaming.set(e.requestId, (streaming.get(e.requestId) ?? 0) + e.encodedDataLength);
  });
  cdp.on("Network.responseReceived", (e) => {
    // Headers of a response that is still streaming (its body arrives as dataReceived).
    if (counting) streaming.set(e.requestId, (streaming.get(e.requestId) ?? 0) + (e.response.encodedDataLength ?? 0));
  });
  cdp.on("Network.loadingFinished", (e) => {
    if (counting) finished.set(e.requestId, e.encodedDataLength);
  });
  // The first heartbeat of the tab's stream ends the versions it sends on connect (builds that have one).
  let heartbeat = () => undefined;
  const heard = new Promise((resolve) => (heartbeat = resolve));
  cdp.on("Network.eventSourceMessageReceived", (e) => e.eventName === "heartbeat" && heartbeat());
  const loadStart = Date.now();
  await page.goto(`${url}/ui/#/fleet`);
  await page.getByRole("heading", { level: 1, name: "Fleet" }).waitFor({ timeout: 120_000 });
  await page
    .getByText(/clients;/)
    .first()
    .waitFor({ timeout: 120_000 });
  const loadMs = Date.now() - loadStart;
  // Settled: the first answers are in, and the event stream's first frames (each environment's current
  // version, sent once on connect) are part of the load, not of the minute measured.
  await page.waitForTimeout(10_000);
  if (waitForHeartbeat) await heard;
  counting = true;
  const t0 = Date.now();
  const cpu0 = cpuSeconds(pid);
  await during();
  const cpu = cpuSeconds(pid) - cpu0;
  const seconds = (Date.now() - t0) / 1000;
  counting = false;
  let bytes = 0;
  for (const [id, n] of streaming) bytes += finished.has(id) ? 0 : n;
  for (const n of finished.values()) bytes += n;
  await context.close();
  return {
    loadMs,
    bytesPerMinute: Math.round((bytes * 60) / seconds),
    requestsPerMinute: Math.round((requests * 60) / seconds),
    cpuMsPerMinute: Math.round((cpu * 1000 * 60) / seconds),
  };
}

async function run(label, cli, store, browser) {
  const serve = await startServe(cli, store);
  try {
    for (let e = 0; e < ENVS; e++)
      for (let i = 0; i < CLIENTS_PER_ENV; i++)
        await clientRead(serve.url, `env-${String(e).padStart(2, "0")}`, i, VERSIONS - (i === 3 ? 1 : 0));
    const idle = await measure(
      browser,
      serve.url,
      serve.child.pid,
      label !== "before",
      () => new Promise((r) => setTimeout(r, SECONDS * 1000)),
    );
    let moves = 0;
    const busy = await measure(browser, serve.url, serve.child.pid, label !== "before", async () => {
      const end = Date.now() + SECONDS * 1000;
      while (Date.now() < end) {
        await new Promise((r) => setTimeout(r, 5_000));
        // One client goes back and forth between the last two versions.
        await clientRead(serve.url, "env-00", 3, VERSIONS - (moves++ % 2));
      }
    });
    return { label, idle, busy };
  } finally {
    await serve.stop();
  }
}

const buildStart = Date.now();
const store = buildStore();
console.log(
  `store: ${ENVS} environments × ${VERSIONS} versions, ${CLIENTS_PER_ENV} clients each, built in ${Date.now() - buildStart} ms (${store.dir})`,
);
const browser = await chromium.launch({
  executablePath: process.env.STRATA_CHROMIUM ?? "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const results = [];
try {
  if (opts.before) results.push(await run("before", join(opts.before, "bin", "strata.mjs"), store, browser));
  results.push(await run("this build", join(root, "bin", "strata.mjs"), store, browser));
} finally {
  await browser.close();
}
const kib = (n) => `${(n / 1024).toFixed(1)} KiB`;
console.log(
  `\nfleet tab, ${SECONDS} s per phase; load average ${loadavg()
    .map((l) => l.toFixed(2))
    .join(" ")}`,
);
console.log(
  "| build | page load | idle: bytes/min | requests/min | server CPU/min | a client moving every 5 s: bytes/min | requests/min | server CPU/min |",
);
console.log("|---|---|---|---|---|---|---|---|");
for (const r of results)
  console.log(
    `| ${r.label} | ${(r.idle.loadMs / 1000).toFixed(1)} s | ${kib(r.idle.bytesPerMinute)} | ${r.idle.requestsPerMinute} | ${r.idle.cpuMsPerMinute} ms | ${kib(r.busy.bytesPerMinute)} | ${r.busy.requestsPerMinute} | ${r.busy.cpuMsPerMinute} ms |`,
  );
if (process.env.STRATA_BENCH_OUT) appendFileSync(process.env.STRATA_BENCH_OUT, JSON.stringify(results) + "\n");
