#!/usr/bin/env node
// Services (docs/distribution.md, "Services"): what push's build costs when an environment declares 20
// services over 200 namespaces (each service's slice of one resolution: its config and content digest),
// side by side with the same repository without services (the environment's snapshot alone).
// Usage: node bench/services.bench.mjs [--quick]   (needs dist/: npm run build)
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
import { TextDecoder } from "node:util";
import { fmt, generate, machine, median, ratio, root, table, tmp } from "./lib.mjs";

const quick = process.argv.includes("--quick");
const runs = quick ? 2 : 5;
const { buildSnapshotContents } = await import(join(root, "dist/app/snapshot-content.js"));
const { computeContentDigest } = await import(join(root, "dist/core/snapshot/index.js"));
console.log(`# services benchmarks\n\nmachine: ${machine()}`);

const NAMESPACES = 200;
const SERVICES = 20;
const dir = generate(join(tmp(), "repo"), ["--namespaces", String(NAMESPACES), "--keys", "20", "--envs", "4"]);
const namespaces = [];
for (const f of (await import("node:fs")).readdirSync(join(dir, "schemas")))
  namespaces.push(f.replace(/\.schema\.(yaml|json)$/, ""));
namespaces.sort();
const settingsFile = join(dir, "strata.yaml");
const plain = readFileSync(settingsFile, "utf8");
const environment = "production";
// Each service reads 15 namespaces of its own and 5 shared with its neighbour.
let services = "services:\n";
for (let i = 0; i < SERVICES; i++) {
  const own = namespaces.slice((i * 10) % NAMESPACES, ((i * 10) % NAMESPACES) + 15);
  const shared = namespaces.slice(((i + 1) * 10) % NAMESPACES, (((i + 1) * 10) % NAMESPACES) + 5);
  services += `  svc-${i}:\n    namespaces: [${[...new Set([...own, ...shared])].join(", ")}]\n`;
}
const env = { ...process.env, STRATA_NO_CACHE: "1" };

async function build(names) {
  const t0 = performance.now();
  const contents = await buildSnapshotContents({ repoDir: dir, environment, services: names, env });
  for (const c of contents.values()) computeContentDigest(c.config, c.secretSources, c.recipients);
  return performance.now() - t0;
}
async function measure(names) {
  await build(names); // warm-up
  const xs = [];
  for (let i = 0; i < runs; i++) xs.push(await build(names));
  return median(xs);
}

writeFileSync(settingsFile, plain);
const without = await measure([null]);
writeFileSync(settingsFile, plain.replace(/^environments:/m, `${services}environments:`));
const names = Array.from({ length: SERVICES }, (_, i) => `svc-${i}`);
const withServices = await measure([null, ...names]);
table(
  `build of ${environment}: ${NAMESPACES} namespaces, ${SERVICES} services (median of ${runs}, in-process)`,
  ["repository", "time", "ratio"],
  [
    ["without services: the environment's snapshot", fmt(without), "1.00×"],
    [`with ${SERVICES} services: the environment's + each service's`, fmt(withServices), ratio(withServices, without)],
  ],
);

// ---- push end to end: build, sign and publish to an in-process `strata serve` (file store) ----------------
const { startServer, createJsonLogger } = await import(join(root, "dist/server/index.js"));
const { openStore } = await import(join(root, "dist/io/stores/index.js"));
const { generateSigningKey, parseSigningKey } = await import(join(root, "dist/core/snapshot/index.js"));
const { pushEnvironment, createEndpointClient, loadContentBuilder } = await import(
  join(root, "dist/app/distribution/index.js")
);
const signingKey = parseSigningKey(generateSigningKey().pem);
const quiet = createJsonLogger({ level: "error", write: () => undefined });

async function serve() {
  const store = await openStore(`file:${join(tmp(), "store")}`);
  return startServer(
    { store, trustedKeys: [signingKey.publicKey], tokens: null, log: quiet, logRequests: false },
    { host: "127.0.0.1", port: 0 },
  );
}
async function push(url) {
  const t0 = performance.now();
  const r = await pushEnvironment({
    environment,
    endpoint: createEndpointClient({ url }),
    buildContent: loadContentBuilder({ repoDir: dir, env }),
    signingKey,
    trustedKeys: [signingKey.publicKey],
  });
  if (r.status !== "published") throw new Error(`push ${r.status}: ${JSON.stringify(r.findings.slice(0, 2))}`);
  return { ms: performance.now() - t0, result: r };
}
/** The first push of the environment to a fresh endpoint: every chain is published. */
async function measurePush() {
  const xs = [];
  for (let i = 0; i <= runs; i++) {
    const server = await serve();
    try {
      const { ms } = await push(server.url);
      if (i > 0) xs.push(ms); // the first is the warm-up
    } finally {
      await server.close();
    }
  }
  return median(xs);
}
writeFileSync(settingsFile, plain);
const pushWithout = await measurePush();
writeFileSync(settingsFile, plain.replace(/^environments:/m, `${services}environments:`));
const pushWith = await measurePush();
table(
  `strata push of ${environment} to a fresh endpoint: ${NAMESPACES} namespaces (median of ${runs}, in-process server, file store)`,
  ["repository", "time", "ratio"],
  [
    ["without services: 1 chain published", fmt(pushWithout), "1.00×"],
    [`with ${SERVICES} services: ${SERVICES + 1} chains published`, fmt(pushWith), ratio(pushWith, pushWithout)],
  ],
);

// ---- notifications per change: a watcher per service (and one of the environment) ------------------------
/** Opens an event stream and counts its `snapshot` frames after the first (the current version on connect). */
async function watch(url) {
  const res = await fetch(url);
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  const w = { frames: 0, cancel: () => reader.cancel().catch(() => undefined) };
  let buffer = "";
  let opened;
  w.opened = new Promise((r) => (opened = r));
  void (async () => {
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ done: true }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let i;
      while ((i = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, i);
        buffer = buffer.slice(i + 2);
        if (!block.includes("event: snapshot")) continue;
        if (w.seen === undefined) {
          w.seen = true;
          opened();
        } else w.frames++;
      }
    }
  })();
  return w;
}
const changed = namespaces[0];
const declaring = names.filter((n) =>
  new RegExp(`^  ${n}:\\n    namespaces: \\[[^\\]]*\\b${changed}\\b`, "m").test(services),
);
const changedFile = join(dir, "environments", environment, `${changed}.yaml`);
/** Flips one value of the changed namespace's file (a boolean, or a number up by one). */
function changeOneValue() {
  const text = readFileSync(changedFile, "utf8");
  const edited = text.replace(/: (true|false|\d+)$/m, (_m, v) =>
    v === "true" ? ": false" : v === "false" ? ": true" : `: ${Number(v) + 1}`,
  );
  if (edited === text) throw new Error(`no value to change in ${changedFile}`);
  writeFileSync(changedFile, edited);
}

/**
 * 21 readers (one per service and one more) each follow the stream they would follow: with services, their
 * service's chain (the extra one the environment's); without, all the environment's. One change to one
 * namespace is pushed; returns the readers it woke.
 */
async function wokenByOneChange(withServices) {
  writeFileSync(settingsFile, withServices ? plain.replace(/^environments:/m, `${services}environments:`) : plain);
  const server = await serve();
  try {
    await push(server.url);
    const base = `${server.url}/v1/environments/${environment}`;
    const watchers = new Map([["(environment)", await watch(`${base}/events`)]]);
    for (const name of names)
      watchers.set(name, await watch(withServices ? `${base}/services/${name}/events` : `${base}/events`));
    await Promise.all([...watchers.values()].map((w) => w.opened));
    changeOneValue();
    const { result } = await push(server.url);
    const published = (result.services ?? []).filter((s) => s.status === "published").map((s) => s.service);
    // Every frame this change causes is written before its push's publish answers; the streams read them
    // from the socket within a round trip: wait for the ones it must wake, then a while for any other.
    const expected = withServices ? ["(environment)", ...published] : [...watchers.keys()];
    while (expected.some((n) => watchers.get(n).frames < 1)) await new Promise((r) => setTimeout(r, 5));
    await fetch(`${server.url}/healthz`);
    await new Promise((r) => setTimeout(r, 200));
    const woken = [...watchers].filter(([, w]) => w.frames > 0).map(([n]) => n);
    for (const w of watchers.values()) await w.cancel();
    return { watchers: watchers.size, woken };
  } finally {
    await server.close();
  }
}
const plainWoken = await wokenByOneChange(false);
const serviceWoken = await wokenByOneChange(true);
table(
  `one change to namespace ${changed} (declared by ${declaring.join(", ") || "no service"}): readers woken`,
  ["readers", "watchers", "woken by the change"],
  [
    [
      `without services: every reader follows ${environment}`,
      String(plainWoken.watchers),
      String(plainWoken.woken.length),
    ],
    [
      `with ${SERVICES} services: each follows its own chain`,
      String(serviceWoken.watchers),
      `${serviceWoken.woken.length} (${serviceWoken.woken.join(", ")})`,
    ],
  ],
);
