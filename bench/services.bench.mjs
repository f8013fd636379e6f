#!/usr/bin/env node
// Services (docs/distribution.md, "Services"): what push's build costs when an environment declares 20
// services over 200 namespaces (each service's slice of one resolution: its config and content digest),
// side by side with the same repository without services (the environment's snapshot alone).
// Usage: node bench/services.bench.mjs [--quick]   (needs dist/: npm run build)
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { performance } from "node:perf_hooks";
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
