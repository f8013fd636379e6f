// Start-up: the single-file bundle the GitHub Action runs (action/strata.mjs) against the tsc build the
// npm package ships (bin/strata.mjs -> dist/), side by side, with bare `node` as the floor:
//   strata --version                    the cheapest command (dist/ answers before loading commander)
//   strata secrets decrypt FILE         a small age-encrypted SOPS file of the example repository
// Whole-process wall time, median of BENCH_RUNS runs (default 15) after a warm-up.
// Standalone: `npm run build && npm run bundle && node bench/startup.bench.mjs`.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { fmt, machine, ratio, root, table, time } from "./lib.mjs";

const runs = Number(process.env.BENCH_RUNS ?? 15);
const bundle = join(root, "action", "strata.mjs");
const dist = join(root, "bin", "strata.mjs");
for (const f of [bundle, join(root, "dist", "cli", "main.js")])
  if (!existsSync(f)) throw new Error(`${f} is missing: npm run build && npm run bundle`);

const env = {
  SOPS_AGE_KEY_FILE: join(root, "examples", "keys", "EXAMPLE-ONLY-NOT-A-REAL-KEY.age.txt"),
  STRATA_NO_CACHE: "1",
};
const secretFile = join(root, "environments", "production", "database.sops.yaml");
const floor = time(process.execPath, ["-e", "0"], { runs });

const rows = [];
for (const [label, args] of [
  ["--version", ["--version"]],
  ["secrets decrypt (1 KiB age file)", ["secrets", "decrypt", secretFile]],
]) {
  // Interleave so that drift in the machine's load hits both sides alike.
  const a = [];
  const b = [];
  for (let i = 0; i < 3; i++) {
    a.push(time(process.execPath, [bundle, ...args], { runs: Math.ceil(runs / 3), env }));
    b.push(time(process.execPath, [dist, ...args], { runs: Math.ceil(runs / 3), env }));
  }
  const med = (xs) => [...xs].sort((x, y) => x - y)[1];
  rows.push([label, fmt(med(a)), fmt(med(b)), ratio(med(a), med(b)), fmt(floor)]);
}
table(
  `Start-up, bundle (action/strata.mjs) vs dist/ (bin/strata.mjs); ${machine()}`,
  ["command", "bundle", "dist/", "bundle/dist", "node -e 0"],
  rows,
);
