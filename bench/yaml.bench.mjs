#!/usr/bin/env node
// Reading YAML with positions: strata's reader (the block subset in one pass, the `yaml` package for
// anything else) against the `yaml` package's path alone (lexer, syntax tree, document, then strata's walk
// into positioned values), and `yaml.parse` (values only, no positions) as the peer. strata.yaml, the schemas and
// the values files of a generated repository (500 namespaces × 40 keys × 30 environments) or of --repo DIR, in one process, the
// three in turn for --rounds rounds after one warm-up round each; the medians, and the share of files that
// are in the block subset.
// Usage: node bench/yaml.bench.mjs [--repo DIR] [--rounds N]
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { loadavg } from "node:os";
import { parse } from "yaml";
import { generate, machine, median, root, tmp } from "./lib.mjs";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : fallback;
};
const rounds = Number(arg("--rounds", "7"));
const repo = arg("--repo") ?? generate(join(tmp(), "large"), ["--namespaces", "500", "--keys", "40", "--envs", "30"]);
const { parseYaml, parseGeneral } = await import(join(root, "dist", "core", "yaml", "parse.js"));
const { readBlockSubset } = await import(join(root, "dist", "core", "yaml", "block-subset.js"));

const files = [];
const walk = (dir, rel) => {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith(".") || e.name === "node_modules") continue;
    if (e.isDirectory()) walk(join(dir, e.name), `${rel}${e.name}/`);
    else if (/\.ya?ml$/.test(e.name)) {
      const values = rel.startsWith("environments/");
      files.push({
        path: `${rel}${e.name}`,
        text: readFileSync(join(dir, e.name), "utf8"),
        keys: values ? "segments" : "any",
      });
    }
  }
};
// A configuration repository's YAML: strata.yaml, the schemas and the values files (not its other YAML).
walk(join(repo, "schemas"), "schemas/");
walk(join(repo, "environments"), "environments/");
files.push({ path: "strata.yaml", text: readFileSync(join(repo, "strata.yaml"), "utf8"), keys: "any" });
const inSubset = files.filter((f) => readBlockSubset(f.text, f.path, f.keys) !== null).length;

const readers = {
  strata: (f) => parseYaml(f.text, f.path, { keys: f.keys, allowUnset: f.keys === "segments" }),
  "yaml package + walk": (f) => parseGeneral(f.text, f.path, { keys: f.keys, allowUnset: f.keys === "segments" }),
  "yaml.parse (no positions)": (f) => parse(f.text, { logLevel: "error" }),
};
const times = Object.fromEntries(Object.keys(readers).map((k) => [k, []]));
for (let r = 0; r <= rounds; r++) {
  for (const [name, read] of Object.entries(readers)) {
    const kept = [];
    const t0 = performance.now();
    for (const f of files) kept.push(read(f));
    const ms = performance.now() - t0;
    if (r > 0) times[name].push(ms);
  }
}

const mb = files.reduce((n, f) => n + f.text.length, 0) / 2 ** 20;
console.log(
  `# reading YAML with positions\n\nmachine: ${machine()}, load ${loadavg()
    .map((l) => l.toFixed(2))
    .join(", ")}`,
);
console.log(
  `${files.length.toLocaleString("en-US")} files, ${mb.toFixed(1)} MiB; in the block subset: ${inSubset.toLocaleString("en-US")}`,
);
console.log(`${rounds} rounds after one warm-up, the readers in turn; median per round\n`);
console.log("| reader | ms per round | / yaml.parse |");
console.log("|---|---:|---:|");
const peer = median(times["yaml.parse (no positions)"]);
for (const name of Object.keys(readers)) {
  const m = median(times[name]);
  console.log(`| ${name} | ${m.toFixed(0)} | ${(m / peer).toFixed(2)}× |`);
}
