#!/usr/bin/env node
// Benchmarks for `strata diff` and `strata log` on generated repositories (issue 4). Prints a table.
//
//   node bench/diff.bench.mjs [--runs 3] [--keep DIR]
//
// Needs the built CLI (npm run build) and shared/bench/gen-config-repo.mjs beside the clone (or above it).
// Each timing is the best of --runs runs of the real CLI process, start-up included.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "bin", "strata.mjs");
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1] ?? 3) || 3;
const keep = args.includes("--keep") ? args[args.indexOf("--keep") + 1] : null;

function findGenerator() {
  for (let d = root; ; d = dirname(d)) {
    const c = join(d, "..", "shared", "bench", "gen-config-repo.mjs");
    if (existsSync(c)) return c;
    if (dirname(d) === d) throw new Error("shared/bench/gen-config-repo.mjs not found beside or above the project");
  }
}
const generator = findGenerator();
if (!existsSync(join(root, "dist", "cli", "main.js"))) throw new Error("build first: npm run build");

const work = keep ?? mkdtempSync(join(tmpdir(), "strata-bench-diff-"));
const env = { ...process.env, NO_COLOR: "1", GITHUB_ACTIONS: "", GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1" };
const gitEnv = { ...env, GIT_AUTHOR_NAME: "bench", GIT_AUTHOR_EMAIL: "bench@example.com", GIT_COMMITTER_NAME: "bench", GIT_COMMITTER_EMAIL: "bench@example.com" };

function generate(name, extra) {
  const dir = join(work, name);
  if (!existsSync(dir)) execFileSync(process.execPath, [generator, dir, "--features", "--git", ...extra], { stdio: "pipe" });
  return dir;
}

/** Best wall time of `runs` runs, in ms; fails loudly when the command does. */
function time(dir, argv) {
  let best = Infinity;
  let out = "";
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [cli, ...argv], { cwd: dir, env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(`strata ${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
    best = Math.min(best, ms);
    out = r.stdout;
  }
  return { ms: best, out };
}

/** 500 commits on top of a generated repository, each changing svc000.host in the base layer. */
function withHistory(dir, commits) {
  const marker = join(dir, ".bench-history");
  if (existsSync(marker)) return dir;
  const file = join(dir, "environments", "base", "svc000.yaml");
  const original = readFileSync(file, "utf8");
  for (let i = 0; i < commits; i++) {
    writeFileSync(file, original.replace(/^host: .*$/m, `host: "svc000-rev${i}.internal"`));
    execFileSync("git", ["-c", "gc.auto=0", "commit", "-qam", `rev ${i} (#${1000 + i})`], { cwd: dir, env: gitEnv, stdio: "pipe" });
  }
  writeFileSync(marker, "");
  return dir;
}

const rows = [];
const count = (out) => Object.values(JSON.parse(out).environments).reduce((n, e) => n + e.changes.length, 0);
for (const ns of [50, 500]) {
  const dir = generate(`ns${ns}`, ["--namespaces", String(ns), "--changes", "200"]);
  const inc = time(dir, ["diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "json"]);
  const full = time(dir, ["diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "json", "--no-incremental"]);
  if (inc.out !== full.out) throw new Error(`incremental and full diffs differ at ${ns} namespaces`);
  rows.push({ ns, inc: inc.ms, full: full.ms, changes: count(inc.out) });
}
const logDir = withHistory(generate("log", ["--namespaces", "50"]), 500);
const log = time(logDir, ["log", "--env", "development", "svc000.**", "--format", "json"]);
const logEntries = JSON.parse(log.out).commits.length;
const logPr = time(logDir, ["log", "--env", "production-r2", "svc001.**", "--format", "json"]);

const f = (ms) => `${(ms / 1000).toFixed(2)} s`;
const [small, large] = rows;
console.log(`machine: ${cpus()[0]?.model ?? "?"} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; best of ${runs} runs, CLI start-up included\n`);
console.log("| case | incremental | --no-incremental | ratio (goal ≤ 0.5) | effective changes |");
console.log("|---|---:|---:|---:|---:|");
for (const r of rows) console.log(`| diff HEAD~1..HEAD, ${r.ns} namespaces, 200 changes | ${f(r.inc)} | ${f(r.full)} | ${(r.inc / r.full).toFixed(2)} | ${r.changes} |`);
console.log(`\n| scaling (incremental) | 50 ns | 500 ns | ratio (goal < 3) |\n|---|---:|---:|---:|\n| diff, same 200 changes | ${f(small.inc)} | ${f(large.inc)} | ${(large.inc / small.inc).toFixed(2)} |`);
console.log(`\n| log over 500 commits | time | commits reported |\n|---|---:|---:|\n| log --env development svc000.** (every commit touches it) | ${f(log.ms)} | ${logEntries} |\n| log --env production-r2 svc001.** (no commit touches it) | ${f(logPr.ms)} | ${JSON.parse(logPr.out).commits.length} |`);
if (!keep) rmSync(work, { recursive: true, force: true });
