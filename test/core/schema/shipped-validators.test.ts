// @module-tag e2e
// strata.yaml's validator is generated when strata is built (scripts/build-validators.mjs), so a run with no
// cache does not compile the schema every time. It must answer exactly as the compiled one does, and code
// made for another schema, another strata or another ajv is never used.
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import type { JsonObject } from "../../../src/core/json.js";
import { SchemaCompiler } from "../../../src/core/schema/compile.js";
import { parseSettings } from "../../../src/core/settings/settings.js";
import { strataYamlSchema } from "../../../src/core/settings/strata-yaml-schema.js";
import { parseYaml } from "../../../src/core/yaml/parse.js";
import { shippedValidators, shippedValidatorsIdentity } from "../../../src/io/cache/validators.js";
import { projectRoot } from "../../support/cli.js";

const work = mkdtempSync(join(tmpdir(), "strata-shipped-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** What the build script does: the code ajv generates for strata's own schema, by the compiler's key. */
function generate(schema: JsonObject): Map<string, string> {
  const out = new Map<string, string>();
  new SchemaCompiler({ cache: { get: () => null, set: (k, code) => void out.set(k, code) } }).compileInternal(
    "strata.yaml",
    schema,
  );
  return out;
}

const settingsTexts: Record<string, string> = {
  "the example repository's": readFileSync(join(projectRoot, "strata.yaml"), "utf8"),
  "an unknown top-level key": "version: 1\nenvironments:\n  base: { abstract: true }\nenviroments: {}\n",
  "a wrong version and types": "version: 2\nenvironments:\n  prod: { parent: 3, abstract: maybe }\n",
  "environments not a map": "version: 1\nenvironments: [a, b]\n",
  "a bad name": "version: 1\nenvironments:\n  Prod_1: {}\n  prod: { parent: base }\n",
  "no environments": "version: 1\n",
};

function settingsFindings(text: string, compiler: SchemaCompiler): unknown {
  const parsed = parseYaml(text, "strata.yaml", { keys: "any", allowUnset: false });
  const r = parseSettings(parsed.documents[0] ?? null, compiler);
  return { findings: r.findings, environments: [...r.environments.entries()] };
}

describe("strata.yaml's validator from the build", () => {
  it.each(Object.entries(settingsTexts))("finds exactly what the compiled one finds: %s", (name, text) => {
    const shipped = generate(strataYamlSchema as unknown as JsonObject);
    const fromBuild = new SchemaCompiler({ shipped: (k) => shipped.get(k) ?? null });
    const compiled = new SchemaCompiler();
    const found = settingsFindings(text, fromBuild) as { findings: unknown[] };
    expect(found).toEqual(settingsFindings(text, compiled));
    expect(fromBuild.shippedHits).toBe(1);
    // Not only none on both sides.
    expect(found.findings.length > 0).toBe(name !== "the example repository's");
  });

  it("code made for another schema is never used", () => {
    const other = structuredClone(strataYamlSchema) as unknown as JsonObject;
    (other as { additionalProperties?: unknown }).additionalProperties = true;
    const shipped = generate(other);
    const compiler = new SchemaCompiler({ shipped: (k) => shipped.get(k) ?? null });
    const r = settingsFindings(settingsTexts["an unknown top-level key"]!, compiler) as {
      findings: { message: string }[];
    };
    expect(r.findings.map((f) => f.message).join("\n")).toMatch(/enviroments/);
    expect(compiler.shippedHits).toBe(0);
  });

  it("a file made by another strata or ajv, or damaged, gives nothing", () => {
    const [key, code] = [...generate(strataYamlSchema as unknown as JsonObject)][0]!;
    const write = (name: string, text: string): URL => {
      writeFileSync(join(work, name), text);
      return pathToFileURL(join(work, name));
    };
    const doc = (identity: string): string => JSON.stringify({ identity, validators: { [key]: code } });
    expect(shippedValidators(write("ok.json", doc(shippedValidatorsIdentity())))(key)).toBe(code);
    expect(shippedValidators(write("other.json", doc("strata 0.0.1; ajv 8.0.0")))(key)).toBeNull();
    expect(shippedValidators(write("damaged.json", doc(shippedValidatorsIdentity()).slice(0, 200)))(key)).toBeNull();
    expect(shippedValidators(pathToFileURL(join(work, "missing.json")))(key)).toBeNull();
  });

  it("the build writes the validator the compiler asks for", () => {
    execFileSync(process.execPath, [join(projectRoot, "scripts", "build-validators.mjs")], { cwd: projectRoot });
    const compiler = new SchemaCompiler({
      shipped: shippedValidators(pathToFileURL(join(projectRoot, "dist", "shipped-validators.json"))),
    });
    compiler.compileInternal("strata.yaml", strataYamlSchema as unknown as JsonObject);
    expect(compiler.shippedHits).toBe(1);
  });
});
