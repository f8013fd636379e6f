#!/usr/bin/env node
// npm run bench: every bench/*.bench.mjs in turn (each prints its tables). Pass names to pick some, then
// options for them (an option's value is passed on too):
//   npm run bench -- foundation sops
//   npm run bench -- compare --runs 7 --only resolve,decrypt
import { readdirSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";

const dir = fileURLToPath(new URL(".", import.meta.url));
const args = process.argv.slice(2);
const firstFlag = args.findIndex((a) => a.startsWith("-"));
const wanted = firstFlag === -1 ? args : args.slice(0, firstFlag);
const flags = firstFlag === -1 ? [] : args.slice(firstFlag);
const benches = readdirSync(dir)
  .filter((f) => f.endsWith(".bench.mjs"))
  .filter((f) => !wanted.length || wanted.some((w) => f.startsWith(w)))
  .sort();
for (const b of benches) {
  const r = spawnSync(process.execPath, [`${dir}/${b}`, ...flags], { stdio: "inherit" });
  if (r.status !== 0) process.exitCode = r.status ?? 1;
}
