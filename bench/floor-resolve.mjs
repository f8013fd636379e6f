#!/usr/bin/env node
// The floor for `strata resolve --env ENV` with no cache: one Node process that yaml.parse's strata.yaml,
// every schema and the values files of ENV's chain (root first), compiles every schema once with Ajv2020
// (strict, allErrors, ajv-formats), merges the chain's layers over the schema defaults the plain way
// (objects deep-merged, arrays replaced), validates each namespace and prints the effective config as JSON.
// No positions, no provenance, no interpolation, no located errors: the least work any resolver of this
// repository must do.  node bench/floor-resolve.mjs REPO ENV
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";

const addFormats = addFormatsModule.default ?? addFormatsModule;
const [dir, envName] = process.argv.slice(2);
const settings = parse(readFileSync(join(dir, "strata.yaml"), "utf8"));
const chain = [];
for (let e = envName; e; e = settings.environments[e].parent) chain.unshift(e);

const isObject = (v) => v !== null && typeof v === "object" && !Array.isArray(v);
function merge(base, over) {
  if (!isObject(base) || !isObject(over)) return over;
  const out = { ...base };
  for (const [k, v] of Object.entries(over)) out[k] = merge(out[k], v);
  return out;
}
function defaults(schema) {
  if (schema.default !== undefined) return schema.default;
  if (!isObject(schema.properties)) return undefined;
  const out = {};
  for (const [k, s] of Object.entries(schema.properties)) {
    const d = defaults(s);
    if (d !== undefined) out[k] = d;
  }
  return Object.keys(out).length ? out : undefined;
}

const ajv = new Ajv2020({ strict: true, allErrors: true, allowUnionTypes: true });
addFormats(ajv);
const config = {};
const validators = new Map();
for (const f of readdirSync(join(dir, "schemas")).sort()) {
  const ns = f.replace(/\.schema\.yaml$/, "");
  const schema = parse(readFileSync(join(dir, "schemas", f), "utf8"));
  delete schema.$id; // as strata does: a schema's own $id would register it globally
  validators.set(ns, ajv.compile(schema));
  config[ns] = defaults(schema) ?? {};
}
for (const e of chain) {
  const envDir = join(dir, "environments", e);
  if (!existsSync(envDir)) continue;
  for (const f of readdirSync(envDir)) {
    const ns = f.replace(/\.yaml$/, "");
    config[ns] = merge(config[ns] ?? {}, parse(readFileSync(join(envDir, f), "utf8")) ?? {});
  }
}
let errors = 0;
for (const [ns, v] of validators) if (!v(config[ns])) errors++;
process.stdout.write(JSON.stringify(config, null, 2) + "\n");
if (errors) console.error(`${errors} namespaces invalid`);
