#!/usr/bin/env node
// npm run bench: every bench/*.bench.mjs in turn (each prints its tables). Pass names to pick some:
//   npm run bench -- foundation sops
import { readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const flags = process.argv.slice(2).filter((a) => a.startsWith("-"));
const benches = readdirSync(dir).filter((f) => f.endsWith(".bench.mjs")).filter((f) => !wanted.length || wanted.some((w) => f.startsWith(w))).sort();
for (const b of benches) {
  const r = spawnSync(process.execPath, [`${dir}/${b}`, ...flags], { stdio: "inherit" });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}
