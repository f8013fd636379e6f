#!/usr/bin/env node
// The dashboard at scale (issue 26, item 10): 50 environments × 500 versions on a file store, the built
// `strata serve` and Debian's chromium (playwright-core). For each page (environments, one environment,
// audit): how long until it shows its content, the bytes it downloaded, the server's CPU for that load, the
// page's height; then, with the tab left open, the bytes and the server CPU per minute.
//
//   npm run build && node bench/dashboard.bench.mjs [--envs 50] [--versions 500] [--idle 60] [--root DIR]
//
// --root runs another checkout's build (its bin/ and dist/) against the same generated store, so two
// versions of the code are compared on one machine in one run: e.g. a `git worktree` of main, built.
// --store DIR reuses (or keeps) the generated store. Server CPU is the server process's utime+stime from
// /proc (Linux only), so it counts nothing of the browser or of this script.
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { listeningUrl } from "./lib.mjs";

const here = fileURLToPath(new URL("..", import.meta.url));
const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i < 0 ? fallback : process.argv[i + 1];
};
const ENVS = Number(arg("envs", 50));
/** --screenshots DIR: a full-page screenshot of each page (of the last --root), e.g. for docs/screenshots. */
const SHOTS = arg("screenshots", null);
const VERSIONS = Number(arg("versions", 500));
const IDLE_S = Number(arg("idle", 60));
const roots = (arg("root", null) ?? here).split(",").map((r) => resolve(r));
const chromiumPath = process.env.STRATA_CHROMIUM ?? "/usr/bin/chromium";
const { chromium } = await import("playwright-core");
const snap = await import(join(here, "dist/core/snapshot/index.js"));
const { createHistoryEntry, headOf, padVersion } = await import(join(here, "dist/io/stores/store.js"));

const work = mkdtempSync(join(tmpdir(), "strata-dash-bench-"));
const storeDir = resolve(arg("store", join(work, "store")));
const keyDir = join(work, "keys");
mkdirSync(keyDir, { recursive: true });

/** A deterministic key per store, so a kept store is still trusted on the next run. */
function signingKey() {
  const file = join(storeDir, "..", `${storeDir.split("/").pop()}.key.pem`);
  if (!existsSync(file)) writeFileSync(file, snap.generateSigningKey().pem);
  return snap.parseSigningKey(readFileSync(file, "utf8"));
}

/** About 3 KB of configuration per version: a realistic service's namespaces. */
function configOf(env, version) {
  const hosts = Array.from({ length: 8 }, (_, i) => `${env}-db-${i}.internal`);
  return {
    http: { listen: { port: 8080, host: "0.0.0.0" }, timeouts: { read: 30, write: 30, idle: 120 }, cors: ["a", "b"] },
    database: { pool: { min: 2, max: 20 + (version % 7) }, hosts, replica: true, statement_timeout_ms: 5000 },
    features: Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`flag_${i}`, (version + i) % 3 === 0])),
    limits: Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`quota_${i}`, 1000 * (i + 1) + version])),
    app: { name: `svc-${env}`, release: `2026.${version}`, region: "eu-west-1", replicas: 3 + (version % 4) },
  };
}

async function generate(key) {
  if (existsSync(join(storeDir, "envs"))) return;
  const t0 = performance.now();
  for (let e = 0; e < ENVS; e++) {
    const env = `env-${String(e).padStart(2, "0")}`;
    const dir = join(storeDir, "envs", env);
    mkdirSync(join(dir, "v"), { recursive: true });
    let previous = null;
    const lines = [];
    let last = null;
    const start = Date.now() - VERSIONS * 3600_000;
    for (let v = 1; v <= VERSIONS; v++) {
      const config = configOf(env, v);
      const pr = 1000 + e * VERSIONS + v;
      const s = snap.createSnapshot(
        {
          environment: env,
          version: v,
          previous,
          rollbackOf: null,
          createdAt: new Date(start + v * 3600_000),
          expiresAt: new Date(Date.now() + 30 * 86400_000),
          source: {
            repository: "acme/config",
            commit: (v * 7919).toString(16).padStart(40, "0"),
            pullRequest: pr,
            approvedBy: ["alice", "bob"],
            pushedBy: "ci",
            emergency: false,
            pullRequests: [{ number: pr, approvedBy: ["alice", "bob"], emergency: false }],
          },
          contentDigest: snap.computeContentDigest(config, []),
          config,
          secrets: null,
        },
        [key],
      );
      writeFileSync(join(dir, "v", `${padVersion(v)}.json`), snap.serializeSnapshot(s));
      last = createHistoryEntry(
        { snapshot: s, action: "publish", actor: "ci" },
        new Date(start + v * 3600_000).toISOString(),
      );
      lines.push(JSON.stringify(last));
      previous = s.digest;
    }
    writeFileSync(join(dir, "history.jsonl"), lines.join("\n") + "\n");
    writeFileSync(join(dir, "head.json"), JSON.stringify(headOf(last)));
  }
  console.error(`generated ${ENVS} × ${VERSIONS} versions in ${Math.round(performance.now() - t0)} ms: ${storeDir}`);
}

/** The server process's CPU time so far, in ms (utime + stime of /proc/PID/stat, in clock ticks of 10 ms). */
function cpuMs(pid) {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(fields[11]) + Number(fields[12])) * 10;
}

async function serve(root, trustedFile) {
  const child = spawn(
    process.execPath,
    [
      join(root, "bin/strata.mjs"),
      "serve",
      "--listen",
      "127.0.0.1:0",
      "--store",
      `file:${storeDir}`,
      "--trusted-keys",
      trustedFile,
    ],
    { stdio: ["ignore", "ignore", "pipe"], env: { ...process.env, NO_COLOR: "1" } },
  );
  return { child, url: await listeningUrl(child) };
}

const PAGES = [
  { name: "environments", hash: "#/", ready: "table.envs tbody tr" },
  { name: "environment", hash: "#/env/env-07", ready: ".timeline li" },
  { name: "audit", hash: "#/audit", ready: "text=/Every chain is intact|chains? (is|are) broken/" },
];

async function measure(browser, server, page, idle = true) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 860 } });
  const tab = await context.newPage();
  const cdp = await context.newCDPSession(tab);
  await cdp.send("Network.enable");
  // Bytes per request as they arrive (a response still downloading when the minute ends counts for what
  // arrived), replaced by the request's total on the wire (headers included) when it finishes.
  let perRequest = new Map();
  cdp.on("Network.dataReceived", (e) =>
    perRequest.set(e.requestId, (perRequest.get(e.requestId) ?? 0) + e.encodedDataLength),
  );
  cdp.on("Network.loadingFinished", (e) =>
    perRequest.set(e.requestId, Math.max(perRequest.get(e.requestId) ?? 0, e.encodedDataLength)),
  );
  const taken = () => [...perRequest.values()].reduce((a, b) => a + b, 0);
  const cpu0 = cpuMs(server.child.pid);
  const t0 = performance.now();
  await tab.goto(`${server.url}/ui/${page.hash}`);
  await tab.locator(page.ready).first().waitFor({ timeout: 300_000 });
  const loadMs = performance.now() - t0;
  // Let the page's other first requests finish (the environment page's diff, the fleet's histories).
  await tab.waitForLoadState("networkidle", { timeout: 300_000 }).catch(() => undefined);
  const settled = performance.now() - t0;
  const loadCpu = cpuMs(server.child.pid) - cpu0;
  const loadBytes = taken();
  const height = await tab.evaluate("document.documentElement.scrollHeight");
  if (SHOTS !== null && idle && height < 20_000)
    await tab.screenshot({ path: join(SHOTS, `scale-${page.name}.png`), fullPage: true });
  const cpu1 = cpuMs(server.child.pid);
  perRequest = new Map();
  if (idle) await new Promise((r) => setTimeout(r, IDLE_S * 1000));
  const perMinute = 60 / IDLE_S;
  const idleBytes = taken() * perMinute;
  const idleCpu = (cpuMs(server.child.pid) - cpu1) * perMinute;
  await context.close();
  return { page: page.name, loadMs, settled, loadCpu, loadBytes, height, idleBytes, idleCpu };
}

const kb = (n) => (n >= 1024 * 1024 ? `${(n / 1024 / 1024).toFixed(1)} MB` : `${(n / 1024).toFixed(1)} KB`);

const key = signingKey();
await generate(key);
const trustedFile = join(keyDir, "trusted.txt");
writeFileSync(trustedFile, `${key.publicKey.text}\n`);
const browser = await chromium.launch({
  executablePath: chromiumPath,
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
const results = [];
try {
  for (const root of roots) {
    const server = await serve(root, trustedFile);
    try {
      // The server's own work with no tab open (the store's change polling): subtract it from the rows.
      const idle0 = cpuMs(server.child.pid);
      await new Promise((r) => setTimeout(r, IDLE_S * 1000));
      const quiet = ((cpuMs(server.child.pid) - idle0) * 60) / IDLE_S;
      results.push({
        root,
        page: "(no tab open)",
        loadMs: 0,
        settled: 0,
        loadCpu: 0,
        loadBytes: 0,
        height: 0,
        idleBytes: 0,
        idleCpu: quiet,
      });
      for (const page of PAGES) {
        const r = await measure(browser, server, page);
        results.push({ root, ...r });
        console.error(`${root}: ${JSON.stringify(r)}`);
      }
      // Each page again in a new tab: what every load after the first costs (versions already verified once).
      for (const page of PAGES) {
        const r = await measure(browser, server, page, false);
        r.page += " (again)";
        r.idleBytes = r.idleCpu = null;
        results.push({ root, ...r });
        console.error(`${root}: ${JSON.stringify(r)}`);
      }
    } finally {
      server.child.kill("SIGTERM");
    }
  }
} finally {
  await browser.close();
  if (arg("store", null) === null) rmSync(work, { recursive: true, force: true });
}
console.log(`\nDashboard at ${ENVS} environments × ${VERSIONS} versions (file store, ${IDLE_S} s open per tab)\n`);
console.log(
  "| code | page | shown after | all loaded | downloaded | server CPU (load) | page height | bytes/min open | server CPU/min open |",
);
console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|");
for (const r of results)
  console.log(
    `| ${r.root} | ${r.page} | ${Math.round(r.loadMs)} ms | ${Math.round(r.settled)} ms | ${kb(r.loadBytes)} | ${r.loadCpu} ms | ${r.height} px | ${r.idleBytes === null ? "" : kb(r.idleBytes)} | ${r.idleCpu === null ? "" : `${r.idleCpu} ms`} |`,
  );
