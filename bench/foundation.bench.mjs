#!/usr/bin/env node
// Issue 2's benchmarks, each side by side with its peer in the same run:
//   validate (cold, no cache, warm cache) vs the floor (yaml.parse + ajv compile + validate, no positions)
//   resolve --format json vs node-config loading the same layers
//   strata --version vs node -e 0
//   peak memory of validate at the large size; validate time as namespaces grow 50 -> 500
// Usage: node bench/foundation.bench.mjs [--quick]
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { isDeepStrictEqual } from "node:util";
import { stringify, parse } from "yaml";
import { cli, fmt, generate, machine, peakRssMb, ratio, root, table, time, tmp } from "./lib.mjs";

const quick = process.argv.includes("--quick");
const runs = quick ? 1 : 3;
const work = tmp();
console.log(`# strata foundation benchmarks\n\nmachine: ${machine()}`);

const sizes = [
  ["default (50 ns × 40 keys × 12 envs)", []],
  ["large (500 ns × 40 keys × 30 envs = 20,000 parameters)", ["--namespaces", "500", "--keys", "40", "--envs", "30"]],
];
const floor = join(root, "bench", "floor-validate.mjs");

// --- validate vs the floor
const validateRows = [];
const repos = {};
for (const [label, args] of sizes) {
  const dir = generate(join(work, label.split(" ")[0]), [...args, "--expected"]);
  repos[label.split(" ")[0]] = dir;
  const cache = join(work, `cache-${label.split(" ")[0]}`);
  const floorMs = time(process.execPath, [floor, dir], { runs });
  const noCache = time(process.execPath, [cli, "validate", "--repo", dir], { runs, env: { STRATA_NO_CACHE: "1" } });
  // Cold: an empty cache directory each run (the run compiles every schema and fills the cache).
  const coldSamples = [];
  for (let i = 0; i < runs; i++) {
    rmSync(cache, { recursive: true, force: true });
    coldSamples.push(
      time(process.execPath, [cli, "validate", "--repo", dir], {
        runs: 1,
        warmup: false,
        env: { STRATA_CACHE_DIR: cache },
      }),
    );
  }
  const cold = coldSamples.sort((a, b) => a - b)[Math.floor(coldSamples.length / 2)];
  const warm = time(process.execPath, [cli, "validate", "--repo", dir], { runs, env: { STRATA_CACHE_DIR: cache } });
  validateRows.push([label, fmt(floorMs), fmt(noCache), fmt(cold), fmt(warm), ratio(warm, floorMs)]);
}
table(
  "strata validate (all environments) vs the floor",
  ["repository", "floor", "strata, no cache", "strata cold (fills cache)", "strata warm cache", "warm / floor"],
  validateRows,
);

// --- resolve vs node-config (the repository without features: node-config has no x-merge, !unset or ${})
{
  const dir = repos.large;
  const env = "production-r2";
  const settings = parse(readFileSync(join(dir, "strata.yaml"), "utf8"));
  const chain = [];
  for (let e = env; e; e = settings.environments[e].parent) chain.unshift(e);
  const configDir = join(work, "node-config");
  mkdirSync(configDir, { recursive: true });
  const defaults = JSON.parse(readFileSync(join(dir, ".expected", "development.json"), "utf8"));
  // default.yaml = the schema defaults of every namespace, computed by strata itself from the schemas.
  const defaultsDoc = {};
  for (const f of readdirSync(join(dir, "schemas"))) {
    const ns = f.replace(/\.schema\.yaml$/, "");
    const schema = parse(readFileSync(join(dir, "schemas", f), "utf8"));
    const obj = {};
    for (const [k, s] of Object.entries(schema.properties)) {
      if (s.default !== undefined) obj[k] = s.default;
      if (s.properties)
        for (const [k2, s2] of Object.entries(s.properties))
          if (s2.default !== undefined) (obj[k] ??= {})[k2] = s2.default;
    }
    defaultsDoc[ns] = obj;
  }
  void defaults;
  writeFileSync(join(configDir, "default.yaml"), stringify(defaultsDoc));
  for (const e of chain) {
    const doc = {};
    let files = [];
    try {
      files = readdirSync(join(dir, "environments", e));
    } catch {
      /* no files */
    }
    for (const f of files) doc[f.replace(/\.yaml$/, "")] = parse(readFileSync(join(dir, "environments", e, f), "utf8"));
    writeFileSync(join(configDir, `${e}.yaml`), stringify(doc));
  }
  const nodeConfigScript = join(work, "node-config-load.cjs");
  writeFileSync(
    nodeConfigScript,
    `const c = require(${JSON.stringify(join(root, "node_modules", "config"))}); process.stdout.write(JSON.stringify(c.util.toObject()));\n`,
  );
  const ncEnv = {
    NODE_CONFIG_DIR: configDir,
    NODE_CONFIG_ENV: chain.join(","),
    SUPPRESS_NO_CONFIG_WARNING: "1",
    NODE_CONFIG_STRICT_MODE: "0",
  };
  // Same answer first, then the timing.
  const { execFileSync } = await import("node:child_process");
  const a = JSON.parse(
    execFileSync(process.execPath, [nodeConfigScript], { env: { ...process.env, ...ncEnv }, maxBuffer: 1 << 28 }),
  );
  const b = JSON.parse(
    execFileSync(process.execPath, [cli, "resolve", "--repo", dir, "--env", env, "--format", "json"], {
      env: { ...process.env, STRATA_CACHE_DIR: join(work, "cache-large") },
      maxBuffer: 1 << 28,
    }),
  );
  const same = isDeepStrictEqual(a, b);
  const nc = time(process.execPath, [nodeConfigScript], { runs, env: ncEnv });
  const st = time(process.execPath, [cli, "resolve", "--repo", dir, "--env", env, "--format", "json"], {
    runs,
    env: { STRATA_CACHE_DIR: join(work, "cache-large") },
  });
  table(
    `strata resolve --env ${env} --format json vs node-config (large repository, chain ${chain.join(" -> ")})`,
    ["node-config", "strata (warm cache)", "strata / node-config", "same effective config"],
    [[fmt(nc), fmt(st), ratio(st, nc), same ? "yes" : "NO"]],
  );
}

// --- the example repository, with and without its secrets (issue 3)
{
  const key = {
    SOPS_AGE_KEY_FILE: join(root, "examples/keys/EXAMPLE-ONLY-NOT-A-REAL-KEY.age.txt"),
    STRATA_CACHE_DIR: join(work, "cache-example"),
  };
  const n = quick ? 3 : 10;
  const withSecrets = time(process.execPath, [cli, "validate", "--repo", root], { runs: n, env: key });
  const skipped = time(process.execPath, [cli, "validate", "--repo", root, "--skip-secrets"], { runs: n, env: key });
  table(
    "validate on the example repository (5 SOPS files)",
    ["--skip-secrets", "with secrets (age)", "cost of decryption"],
    [[fmt(skipped), fmt(withSecrets), fmt(withSecrets - skipped)]],
  );
}

// --- start-up
{
  const n = quick ? 5 : 20;
  const bare = time(process.execPath, ["-e", "0"], { runs: n });
  const version = time(process.execPath, [cli, "--version"], { runs: n });
  table("start-up", ["node -e 0", "strata --version", "ratio"], [[fmt(bare), fmt(version), ratio(version, bare)]]);
}

// --- memory and scaling
{
  const mem = peakRssMb(process.execPath, [cli, "validate", "--repo", repos.large], {
    env: { STRATA_CACHE_DIR: join(work, "cache-large") },
  });
  const memFloor = peakRssMb(process.execPath, [floor, repos.large]);
  table(
    "peak memory of validate, large repository",
    ["floor", "strata (warm cache)"],
    [[`${memFloor.toFixed(0)} MB`, `${mem.toFixed(0)} MB`]],
  );
  const rows = [];
  let first = null;
  for (const ns of quick ? [50, 500] : [50, 100, 200, 500]) {
    const dir = generate(join(work, `scale-${ns}`), ["--namespaces", String(ns), "--keys", "40", "--envs", "30"]);
    const cache = join(work, `cache-scale-${ns}`);
    time(process.execPath, [cli, "validate", "--repo", dir], { runs: 1, env: { STRATA_CACHE_DIR: cache } });
    const ms = time(process.execPath, [cli, "validate", "--repo", dir], { runs, env: { STRATA_CACHE_DIR: cache } });
    first ??= { ns, ms };
    rows.push([ns, ns * 40, fmt(ms), `${(ms / ns).toFixed(1)} ms`, ratio(ms, first.ms)]);
  }
  table(
    "validate as namespaces grow (40 keys, 30 environments, warm cache)",
    ["namespaces", "parameters", "time", "per namespace", "vs 50"],
    rows,
  );
}
rmSync(work, { recursive: true, force: true });
