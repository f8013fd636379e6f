#!/usr/bin/env node
// The floor for `strata validate` (issue 2): one Node process that yaml.parse's every file, compiles
// every schema once with Ajv2020 (strict, allErrors, ajv-formats), and validates every .expected/*.json.
// No positions, no merging, no provenance: the least work any validator of this repository must do.
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

const addFormats = addFormatsModule.default ?? addFormatsModule;
const dir = process.argv[2];
const t0 = performance.now();
const schemas = new Map();
for (const f of readdirSync(join(dir, "schemas")))
  schemas.set(f.replace(/\.schema\.yaml$/, ""), parse(readFileSync(join(dir, "schemas", f), "utf8")));
let files = 0;
for (const env of readdirSync(join(dir, "environments"))) {
  for (const f of readdirSync(join(dir, "environments", env))) {
    parse(readFileSync(join(dir, "environments", env, f), "utf8"));
    files++;
  }
}
const t1 = performance.now();
const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
const validators = new Map();
for (const [ns, s] of schemas) validators.set(ns, ajv.compile(s));
const t2 = performance.now();
let errors = 0;
for (const f of readdirSync(join(dir, ".expected"))) {
  const config = JSON.parse(readFileSync(join(dir, ".expected", f), "utf8"));
  for (const [ns, v] of validators) if (!v(config[ns] ?? {})) errors++;
}
const t3 = performance.now();
console.error(
  JSON.stringify({
    files,
    parseMs: Math.round(t1 - t0),
    compileMs: Math.round(t2 - t1),
    validateMs: Math.round(t3 - t2),
    errors,
  }),
);
