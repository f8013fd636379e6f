#!/usr/bin/env node
// Every performance row of the project side by side with its peer, whole processes, in one run:
//
//   npm run bench -- compare [--runs 5] [--only resolve,decrypt,...] [--keep DIR] [--before DIR]
//
// --before DIR: another built checkout (a `git archive` of an earlier commit with its own dist/), run as a
// third command in the same rotation (A B A' A B A' ...) on every row whose peer is not strata, so that
// before and after are measured against the same peer runs.
//
// For each row the strata command and its peer run in turn (A B A B ..., one warm-up each, then --runs
// counted runs of each), and the table gives the medians of wall time and of CPU time (user + system, from
// GNU time when present) and their ratios. The machine may be shared and loaded: the ratio of two commands
// measured alternately in the same run is the figure to quote, CPU ratios are steadier than wall ratios, and
// the load average is printed before and after. Needs the built CLI (npm run build).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { loadavg } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { isDeepStrictEqual } from "node:util";
import { parse, stringify } from "yaml";
import { generate, generator, machine, median, root, tmp } from "./lib.mjs";

/** The command users run: the package's `bin` (bin/strata.mjs runs the same file). */
const cli = join(root, "bin", "strata.cjs");

const argv = process.argv.slice(2);
const opt = (name, fallback) => (argv.includes(name) ? argv[argv.indexOf(name) + 1] : fallback);
const runs = Math.max(1, Number(opt("--runs", argv.includes("--quick") ? "1" : "5")));
const only = opt("--only", null)?.split(",") ?? null;
const keep = opt("--keep", null);
const beforeDir = opt("--before", null);
const beforeCli = beforeDir
  ? [join(beforeDir, "bin", "strata.cjs"), join(beforeDir, "bin", "strata.mjs")].find((f) => existsSync(f))
  : null;
if (beforeDir && !beforeCli) throw new Error(`${beforeDir} has no bin/strata.cjs or bin/strata.mjs`);
if (!existsSync(join(root, "dist", "cli", "main.js"))) throw new Error("build first: npm run build");
if (!existsSync(generator)) throw new Error(`the repository generator is missing: ${generator}`);

const work = keep ?? tmp("strata-bench-compare-");
mkdirSync(work, { recursive: true });
const gnuTime = existsSync("/usr/bin/time") ? "/usr/bin/time" : null;
const node = process.execPath;
const baseEnv = {
  ...process.env,
  NO_COLOR: "1",
  CI: "",
  GITHUB_ACTIONS: "",
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
};
delete baseEnv.STRATA_NO_CACHE;
delete baseEnv.STRATA_CACHE_DIR;
const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(", ");

console.log(
  `# strata compared with its peers (whole processes)\n\nmachine: ${machine()}\nload average at start: ${load()}\nruns: ${runs} counted of each command, alternated, after one warm-up each`,
);

/** One run of a command: wall and CPU milliseconds, stdout. */
function once({ cmd, args, env = {}, cwd = root }) {
  const e = { ...baseEnv, ...env };
  const t = process.hrtime.bigint();
  const [c, a] = gnuTime ? [gnuTime, ["-f", "\n__cpu %U %S", cmd, ...args]] : [cmd, args];
  const r = spawnSync(c, a, { cwd, env: e, encoding: "utf8", maxBuffer: 1 << 28 });
  const wall = Number(process.hrtime.bigint() - t) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${String(r.stderr).slice(0, 800)}`);
  const m = /__cpu ([\d.]+) ([\d.]+)\s*$/.exec(r.stderr);
  return { wall, cpu: m ? (Number(m[1]) + Number(m[2])) * 1000 : NaN, stdout: r.stdout };
}

/** The same command run by the --before checkout (its own warm cache directory). */
function beforeOf(x) {
  const env = { ...x.env };
  if (env.STRATA_CACHE_DIR) env.STRATA_CACHE_DIR = `${env.STRATA_CACHE_DIR}-before`;
  return { ...x, args: x.args.map((a) => (a === cli ? beforeCli : a)), env };
}

/** A and B in turn (and A as --before runs it, when given): one warm-up each, then `runs` counted runs of each. */
function alternate(a, b) {
  const c = beforeCli && a.args.includes(cli) && !b.args.includes(cli) ? beforeOf(a) : null;
  const commands = c ? [a, b, c] : [a, b];
  const prepare = (x) => (x.before ? x.before() : undefined);
  for (const x of commands) {
    prepare(x);
    once(x);
  }
  const samples = commands.map(() => []);
  for (let i = 0; i < runs; i++)
    commands.forEach((x, k) => {
      prepare(x);
      samples[k].push(once(x));
    });
  const [sa, sb, sc] = samples;
  const medians = (xs) => ({ wall: median(xs.map((s) => s.wall)), cpu: median(xs.map((s) => s.cpu)) });
  const ratios = (xs) => {
    const pairs = xs.map((x, i) => ({ wall: x.wall / sb[i].wall, cpu: x.cpu / sb[i].cpu }));
    return { wall: median(pairs.map((p) => p.wall)), cpu: median(pairs.map((p) => p.cpu)) };
  };
  return {
    a: medians(sa),
    b: medians(sb),
    ratio: ratios(sa),
    ...(sc ? { before: { ...medians(sc), ratio: ratios(sc) } } : {}),
  };
}

const rows = [];
const want = (id) => !only || only.includes(id);
const fmt = (ms) => (!Number.isFinite(ms) ? "n/a" : ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);

// --- repositories and files (generated once into the work directory)
const large = join(work, "large");
if (want("validate") && !existsSync(large))
  generate(large, ["--namespaces", "500", "--keys", "40", "--envs", "30", "--expected"]);
const medium = join(work, "medium");
if (want("resolve") && !existsSync(medium))
  generate(medium, ["--namespaces", "200", "--keys", "40", "--envs", "12", "--expected"]);
const diffRepo = join(work, "diff50");
if (want("diff") && !existsSync(diffRepo))
  generate(diffRepo, ["--namespaces", "50", "--features", "--git", "--changes", "200"]);

// --- resolve of one environment vs node-config loading the same layers
if (want("resolve")) {
  const env = "production-r2";
  const settings = parse(readFileSync(join(medium, "strata.yaml"), "utf8"));
  const chain = [];
  for (let e = env; e; e = settings.environments[e].parent) chain.unshift(e);
  const configDir = join(work, "node-config");
  mkdirSync(configDir, { recursive: true });
  // default.yaml: every namespace's schema defaults; then one file per environment of the chain.
  const defaultsDoc = {};
  for (const f of readdirSync(join(medium, "schemas"))) {
    const schema = parse(readFileSync(join(medium, "schemas", f), "utf8"));
    const obj = {};
    for (const [k, s] of Object.entries(schema.properties ?? {})) {
      if (s.default !== undefined) obj[k] = s.default;
      if (s.properties)
        for (const [k2, s2] of Object.entries(s.properties))
          if (s2.default !== undefined) (obj[k] ??= {})[k2] = s2.default;
    }
    defaultsDoc[f.replace(/\.schema\.yaml$/, "")] = obj;
  }
  writeFileSync(join(configDir, "default.yaml"), stringify(defaultsDoc));
  for (const e of chain) {
    const doc = {};
    const dir = join(medium, "environments", e);
    for (const f of existsSync(dir) ? readdirSync(dir) : [])
      doc[f.replace(/\.yaml$/, "")] = parse(readFileSync(join(dir, f), "utf8"));
    writeFileSync(join(configDir, `${e}.yaml`), stringify(doc));
  }
  const script = join(work, "node-config-load.cjs");
  writeFileSync(
    script,
    `const c = require(${JSON.stringify(join(root, "node_modules", "config"))});\nprocess.stdout.write(JSON.stringify(c.util.toObject(), null, 2) + "\\n");\n`,
  );
  const peer = {
    cmd: node,
    args: [script],
    env: {
      NODE_CONFIG_DIR: configDir,
      NODE_CONFIG_ENV: chain.join(","),
      SUPPRESS_NO_CONFIG_WARNING: "1",
      NODE_CONFIG_STRICT_MODE: "0",
    },
  };
  const args = [cli, "resolve", "--repo", medium, "--env", env, "--format", "json"];
  const warm = { cmd: node, args, env: { STRATA_CACHE_DIR: join(work, "cache-resolve") } };
  const noCache = { cmd: node, args, env: { STRATA_NO_CACHE: "1" } };
  // The same answer from all three, and the generator's own.
  const expected = JSON.parse(readFileSync(join(medium, ".expected", `${env}.json`), "utf8"));
  const same = [peer, warm, noCache].every((x) => isDeepStrictEqual(JSON.parse(once(x).stdout), expected));
  rows.push({
    id: "resolve",
    name: `resolve --env ${env} --format json (200 ns × 40 keys × 12 envs), warm cache`,
    peer: "node-config, same layers",
    goal: 1.0,
    strict: true,
    same,
    ...alternate(warm, peer),
  });
  rows.push({
    id: "resolve",
    name: "resolve, same, no cache (STRATA_NO_CACHE=1)",
    peer: "node-config, same layers",
    goal: null,
    same,
    ...alternate(noCache, peer),
  });
  // The floor of a resolve with no cache: parse the chain and every schema, compile every schema, merge, validate.
  const floor = { cmd: node, args: [join(root, "bench", "floor-resolve.mjs"), medium, env] };
  rows.push({
    id: "resolve",
    name: "resolve, same, no cache (STRATA_NO_CACHE=1)",
    peer: "floor (parse + compile + merge + validate)",
    goal: 1.0,
    same: isDeepStrictEqual(JSON.parse(once(floor).stdout), expected),
    ...alternate(noCache, floor),
  });
}

// --- secrets decrypt of a 2,000-value age SOPS YAML vs sops-age in a node process
if (want("decrypt")) {
  const file = join(work, "secrets-2000.sops.yaml");
  const keyFile = join(work, "bench.age.txt");
  if (!existsSync(file)) {
    const { generateIdentity, identityToRecipient } = await import("age-encryption");
    const { encryptBranchesFor } = await import("../dist/app/secrets/encrypt.js");
    const { DEFAULT_RULES } = await import("../dist/app/secrets/recipients.js");
    const { stores } = await import("../dist/core/sops/stores/index.js");
    let plain = "";
    for (let s = 0; s < 100; s++) {
      plain += `service_${s}:\n`;
      for (let k = 0; k < 20; k++) plain += `    key_${k}: value-${s}-${k}-${"x".repeat(k)}\n`;
    }
    const identity = await generateIdentity();
    const recipients = {
      groups: [{ age: [await identityToRecipient(identity)], pgp: [], kms: [] }],
      shamirThreshold: 0,
      rules: DEFAULT_RULES,
      source: "bench",
    };
    writeFileSync(
      file,
      await encryptBranchesFor(
        stores.yaml.parsePlain(plain),
        "yaml",
        recipients,
        { SOPS_AGE_KEY: identity, HOME: "/nonexistent" },
        "bench.yaml",
      ),
    );
    writeFileSync(keyFile, `${identity}\n`, { mode: 0o600 });
  }
  const sopsAge = pathToFileURL(createRequire(join(root, "package.json")).resolve("sops-age")).href;
  const script = join(work, "sops-age-decrypt.mjs");
  writeFileSync(
    script,
    [
      `import { readFileSync } from "node:fs";`,
      `import { decryptSops } from ${JSON.stringify(sopsAge)};`,
      `const key = readFileSync(process.env.SOPS_AGE_KEY_FILE, "utf8").split("\\n").find((l) => l.startsWith("AGE-SECRET-KEY-"));`,
      `const out = await decryptSops(readFileSync(process.argv[2], "utf8"), { secretKey: key, fileType: "yaml" });`,
      `process.stdout.write(JSON.stringify(out, null, 2) + "\\n");`,
    ].join("\n"),
  );
  const env = { SOPS_AGE_KEY_FILE: keyFile, HOME: work };
  const a = { cmd: node, args: [cli, "secrets", "decrypt", "--format", "json", file], env };
  const b = { cmd: node, args: [script, file], env };
  const same = isDeepStrictEqual(JSON.parse(once(a).stdout), JSON.parse(once(b).stdout));
  rows.push({
    id: "decrypt",
    name: "secrets decrypt --format json, 2,000-value age SOPS YAML",
    peer: "sops-age in a node process",
    goal: 0.8,
    same,
    ...alternate(a, b),
  });
}

// --- validate 20,000 parameters × 30 environments vs the floor, no cache and warm cache
if (want("validate")) {
  const floor = { cmd: node, args: [join(root, "bench", "floor-validate.mjs"), large] };
  const args = [cli, "validate", "--repo", large];
  rows.push({
    id: "validate",
    name: "validate 500 ns × 40 keys × 30 envs (20,000 parameters), no cache",
    peer: "floor (parse + compile + validate)",
    goal: 1.0,
    same: null,
    ...alternate({ cmd: node, args, env: { STRATA_NO_CACHE: "1" } }, floor),
  });
  rows.push({
    id: "validate",
    name: "validate, same, warm cache",
    peer: "floor",
    goal: 0.6,
    same: null,
    ...alternate({ cmd: node, args, env: { STRATA_CACHE_DIR: join(work, "cache-validate") } }, floor),
  });
}

// --- start-up
if (want("version")) {
  rows.push({
    id: "version",
    name: "strata --version",
    peer: "node -e 0",
    goal: 1.1,
    same: null,
    ...alternate({ cmd: node, args: [cli, "--version"] }, { cmd: node, args: ["-e", "0"] }),
  });
}

// --- diff: the planner's choice vs --no-incremental
if (want("diff")) {
  const args = [cli, "diff", "--base", "HEAD~1", "--head", "HEAD", "--format", "json"];
  const env = { STRATA_CACHE_DIR: join(work, "cache-diff") };
  const a = { cmd: node, args, env, cwd: diffRepo };
  const b = { cmd: node, args: [...args, "--no-incremental"], env, cwd: diffRepo };
  const same = once(a).stdout === once(b).stdout;
  rows.push({
    id: "diff",
    name: "diff HEAD~1..HEAD, 200 changes, 50 ns (default: the planner chooses)",
    peer: "--no-incremental",
    goal: 0.5,
    same,
    ...alternate(a, b),
  });
}

// --- the table
const header = [
  "row",
  "strata wall (cpu)",
  "peer",
  "peer wall (cpu)",
  "ratio wall",
  "ratio cpu",
  "goal",
  "same output",
  ...(beforeCli ? ["--before: wall (cpu), ratios to the peer"] : []),
];
const body = rows.map((r) => [
  r.name,
  `${fmt(r.a.wall)} (${fmt(r.a.cpu)})`,
  r.peer,
  `${fmt(r.b.wall)} (${fmt(r.b.cpu)})`,
  `${r.ratio.wall.toFixed(2)}×`,
  Number.isFinite(r.ratio.cpu) ? `${r.ratio.cpu.toFixed(2)}×` : "n/a",
  r.goal === null ? "(info)" : `${r.strict ? "<" : "≤"} ${r.goal.toFixed(2)}×`,
  r.same === null ? "-" : r.same ? "yes" : "NO",
  ...(beforeCli
    ? [
        r.before
          ? `${fmt(r.before.wall)} (${fmt(r.before.cpu)}): ${r.before.ratio.cpu.toFixed(2)}× cpu, ${r.before.ratio.wall.toFixed(2)}× wall`
          : "-",
      ]
    : []),
]);
const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
const line = (cells) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(" | ")} |`;
console.log(`\n${line(header)}\n|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
for (const r of body) console.log(line(r));
console.log(
  `\nratios: median of the per-pair ratios (A/B of runs made one after the other); wall and CPU medians per command\nload average at end: ${load()}`,
);
if (rows.some((r) => r.same === false)) process.exitCode = 1;
if (!keep) rmSync(work, { recursive: true, force: true });
