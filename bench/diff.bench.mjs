#!/usr/bin/env node
// Benchmarks for `strata diff` and `strata log` on generated repositories (issue 4). Prints a table.
//
//   node bench/diff.bench.mjs [--runs 3] [--keep DIR]
//
// Needs the built CLI (npm run build) and shared/bench/gen-config-repo.mjs (STRATA_SHARED_DIR, else beside the clone).
// Each timing is the best of --runs runs of the real CLI process, start-up included.
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { generator } from "./lib.mjs";

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = join(root, "bin", "strata.mjs");
const args = process.argv.slice(2);
const runs = Number(args[args.indexOf("--runs") + 1] ?? 3) || 3;
const keep = args.includes("--keep") ? args[args.indexOf("--keep") + 1] : null;

if (!existsSync(generator))
  throw new Error(`${generator} not found: set STRATA_SHARED_DIR or put shared/ beside the checkout`);
if (!existsSync(join(root, "dist", "cli", "main.js"))) throw new Error("build first: npm run build");

const work = keep ?? mkdtempSync(join(tmpdir(), "strata-bench-diff-"));
const env = {
  ...process.env,
  NO_COLOR: "1",
  GITHUB_ACTIONS: "",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
};
const gitEnv = {
  ...env,
  GIT_AUTHOR_NAME: "bench",
  GIT_AUTHOR_EMAIL: "bench@example.com",
  GIT_COMMITTER_NAME: "bench",
  GIT_COMMITTER_EMAIL: "bench@example.com",
};

function generate(name, extra) {
  const dir = join(work, name);
  if (!existsSync(dir))
    execFileSync(process.execPath, [generator, dir, "--features", "--git", ...extra], { stdio: "pipe" });
  return dir;
}

// CPU time (user + system) is steadier than wall time on a shared machine; GNU time measures it when present.
const gnuTime = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;

/** Best wall and CPU time of `runs` runs, in ms; fails loudly when the command does. */
function time(dir, argv) {
  let best = Infinity;
  let bestCpu = Infinity;
  let out = "";
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const [cmd, cmdArgs] = gnuTime
      ? [gnuTime, ["-f", "__cpu %U %S", process.execPath, cli, ...argv]]
      : [process.execPath, [cli, ...argv]];
    const r = spawnSync(cmd, cmdArgs, { cwd: dir, env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (r.status !== 0) throw new Error(`strata ${argv.join(" ")} exited ${r.status}: ${r.stderr}`);
    const cpu = /__cpu ([\d.]+) ([\d.]+)/.exec(r.stderr);
    if (cpu) bestCpu = Math.min(bestCpu, (Number(cpu[1]) + Number(cpu[2])) * 1000);
    best = Math.min(best, ms);
    out = r.stdout;
  }
  return { ms: best, cpu: bestCpu, out };
}

/**
 * `commits` commits on top of a generated repository: every other one changes svc000.host in the development
 * layer (an effective change), the others svc001 in production (not svc000: skipped by the walk).
 */
function withHistory(dir, commits) {
  const marker = join(dir, ".bench-history");
  if (existsSync(marker)) return dir;
  const dev = join(dir, "environments", "development", "svc000.yaml");
  const prod = join(dir, "environments", "production", "svc001.yaml");
  const devText = existsSync(dev) ? readFileSync(dev, "utf8").replace(/^host: .*\n?/m, "") : "";
  const prodText = existsSync(prod) ? readFileSync(prod, "utf8") : "";
  for (let i = 0; i < commits; i++) {
    if (i % 2 === 0)
      writeFileSync(
        dev,
        `${devText}${devText === "" || devText.endsWith("\n") ? "" : "\n"}host: "svc000-rev${i}.internal"\n`,
      );
    else writeFileSync(prod, `${prodText}# revision ${i}\n`);
    execFileSync("git", ["-c", "gc.auto=0", "add", "-A"], { cwd: dir, env: gitEnv, stdio: "pipe" });
    execFileSync("git", ["-c", "gc.auto=0", "commit", "-qm", `rev ${i} (#${1000 + i})`], {
      cwd: dir,
      env: gitEnv,
      stdio: "pipe",
    });
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
  rows.push({ ns, inc: inc.ms, full: full.ms, incCpu: inc.cpu, fullCpu: full.cpu, changes: count(inc.out) });
}
const logDir = withHistory(generate("log", ["--namespaces", "50"]), 500);
const log = time(logDir, ["log", "--env", "development", "svc000.**", "--format", "json"]);
const logEntries = JSON.parse(log.out).commits.length;
const logPr = time(logDir, ["log", "--env", "staging", "svc001.**", "--format", "json"]);

const f = (ms) => (Number.isFinite(ms) ? `${(ms / 1000).toFixed(2)} s` : "n/a");
const [small, large] = rows;
console.log(
  `machine: ${cpus()[0]?.model ?? "?"} × ${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; best of ${runs} runs, CLI start-up included\n`,
);
console.log(
  "| case | incremental wall (cpu) | --no-incremental wall (cpu) | ratio wall (cpu), goal ≤ 0.5 | effective changes |",
);
console.log("|---|---:|---:|---:|---:|");
for (const r of rows)
  console.log(
    `| diff HEAD~1..HEAD, ${r.ns} namespaces, 200 changes | ${f(r.inc)} (${f(r.incCpu)}) | ${f(r.full)} (${f(r.fullCpu)}) | ${(r.inc / r.full).toFixed(2)} (${(r.incCpu / r.fullCpu).toFixed(2)}) | ${r.changes} |`,
  );
console.log(
  `\n| scaling (incremental) | 50 ns | 500 ns | ratio wall (cpu), goal < 3 |\n|---|---:|---:|---:|\n| diff, same 200 changes | ${f(small.inc)} (${f(small.incCpu)}) | ${f(large.inc)} (${f(large.incCpu)}) | ${(large.inc / small.inc).toFixed(2)} (${(large.incCpu / small.incCpu).toFixed(2)}) |`,
);
console.log(
  `\n| log over 500 commits | time | commits reported |\n|---|---:|---:|\n| log --env development svc000.** (250 commits change it) | ${f(log.ms)} | ${logEntries} |\n| log --env staging svc001.** (no commit reaches it) | ${f(logPr.ms)} | ${JSON.parse(logPr.out).commits.length} |`,
);
if (!keep) rmSync(work, { recursive: true, force: true });
