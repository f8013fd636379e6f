#!/usr/bin/env node
// After tsc: generates the validators of strata's own schemas (strata.yaml's) into dist/shipped-validators.json,
// so that a run with no cache (CI) loads that code instead of compiling the schema with ajv every time. Each is
// stored under the key the compiler computes from the schema, with the strata and ajv versions that made it;
// the CLI uses nothing that does not match (src/io/cache/validators.ts).
import { renameSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { SchemaCompiler } from "../dist/core/schema/compile.js";
import { strataYamlSchema } from "../dist/core/settings/strata-yaml-schema.js";
import { SHIPPED_VALIDATORS_FILE, shippedValidatorsIdentity } from "../dist/io/cache/validators.js";

const validators = {};
const compiler = new SchemaCompiler({
  cache: {
    get: () => null,
    set: (key, code) => {
      validators[key] = code;
    },
  },
});
compiler.compileInternal("strata.yaml", strataYamlSchema);
const file = fileURLToPath(SHIPPED_VALIDATORS_FILE);
// Atomic: tests and commands may be reading the previous one.
writeFileSync(
  `${file}.${process.pid}.tmp`,
  `${JSON.stringify({ identity: shippedValidatorsIdentity(), validators })}\n`,
);
renameSync(`${file}.${process.pid}.tmp`, file);
