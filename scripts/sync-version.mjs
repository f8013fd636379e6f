#!/usr/bin/env node
// `npm version` (the `version` script): carries package.json's new version to the places that must say the
// same: the SDK package (packages/client) and the CLI's exact dependency on it, and src/core/version.ts (the
// documentation links' tag). test/package/version.test.ts fails when any of them differs.
import { readFileSync, writeFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

const at = (p) => fileURLToPath(new URL(`../${p}`, import.meta.url));
const readJson = (p) => JSON.parse(readFileSync(at(p), "utf8"));
const writeJson = (p, value) => writeFileSync(at(p), `${JSON.stringify(value, null, 2)}\n`);

const root = readJson("package.json");
const { version } = root;
const client = readJson("packages/client/package.json");
client.version = version;
client.homepage = client.homepage.replace(/\/blob\/v[^/]+\//, `/blob/v${version}/`);
writeJson("packages/client/package.json", client);
root.dependencies["@strata-config/client"] = version;
writeJson("package.json", root);
const readme = at("packages/client/README.md");
writeFileSync(readme, readFileSync(readme, "utf8").replace(/\/blob\/v[^/]+\//g, `/blob/v${version}/`));
const source = at("src/core/version.ts");
writeFileSync(
  source,
  readFileSync(source, "utf8").replace(/VERSION = "[^"]*"/, `VERSION = ${JSON.stringify(version)}`),
);
process.stdout.write(
  `version ${version}: packages/client (package.json, README links), the dependency on it, src/core/version.ts\n`,
);
