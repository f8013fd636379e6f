#!/usr/bin/env node
// Issue 10 (item 11): the environment graph is linear and bounded. `strata validate` on strata.yaml
// files with deep chains (past the 64-level limit: one located finding) and a wide graph, side by side
// with the floor: one Node process that yaml.parse's the same strata.yaml and walks every chain with
// a memo (no positions, no schema, no values).
// Usage: node bench/graph.bench.mjs [--quick]
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, fmt, machine, ratio, table, time, tmp } from "./lib.mjs";

const quick = process.argv.includes("--quick");
const runs = quick ? 1 : 3;
const work = tmp();
console.log(`# strata environment-graph benchmarks\n\nmachine: ${machine()}`);

const floor = join(work, "floor.mjs");
writeFileSync(
  floor,
  `import { readFileSync } from "node:fs";
import { parse } from ${JSON.stringify(new URL("../node_modules/yaml/dist/index.js", import.meta.url).href)};
const envs = parse(readFileSync(process.argv[2], "utf8")).environments;
const depth = new Map();
for (const name of Object.keys(envs)) {
  const path = [];
  let e = name;
  while (e !== undefined && !depth.has(e)) { path.push(e); e = envs[e]?.parent; }
  let d = e === undefined ? 0 : depth.get(e);
  for (let i = path.length - 1; i >= 0; i--) depth.set(path[i], ++d);
}
`,
);

function repo(label, lines) {
  const dir = join(work, label);
  mkdirSync(join(dir, "schemas"), { recursive: true });
  mkdirSync(join(dir, "environments", "e0"), { recursive: true });
  writeFileSync(join(dir, "strata.yaml"), ["version: 1", "environments:", "  e0: {}", ...lines].join("\n") + "\n");
  writeFileSync(join(dir, "schemas", "app.schema.yaml"), "type: object\nproperties:\n  a: { type: integer }\n");
  writeFileSync(join(dir, "environments", "e0", "app.yaml"), "a: 1\n");
  return dir;
}
const chain = (n) => Array.from({ length: n - 1 }, (_, i) => `  e${i + 1}: { parent: e${i} }`);
const cases = [
  ["chain of 64 (the limit)", repo("c64", chain(64))],
  ["chain of 1,000", repo("c1000", chain(1000))],
  ["chain of 4,000", repo("c4000", chain(4000))],
  [
    "4,000 children of one root",
    repo(
      "wide",
      Array.from({ length: 3999 }, (_, i) => `  e${i + 1}: { parent: e0 }`),
    ),
  ],
];
const rows = [];
for (const [label, dir] of cases) {
  const floorMs = time(process.execPath, [floor, join(dir, "strata.yaml")], { runs });
  // Exit 1 past the limit is the answer: a located constraint-violation.
  const strataMs = time(process.execPath, [cli, "validate", "--repo", dir], {
    runs,
    check: false,
    env: { STRATA_NO_CACHE: "1" },
  });
  rows.push([label, fmt(floorMs), fmt(strataMs), ratio(strataMs, floorMs)]);
}
table(
  "strata validate vs the floor (parse strata.yaml and walk every chain)",
  ["strata.yaml", "floor", "strata validate", "strata / floor"],
  rows,
);
