// Builds a Resolver from inline YAML: one namespace `app`, a chain base -> mid -> leaf.
import { Resolver, type EnvironmentLayers, type NamespaceSchema } from "../../../src/core/resolve/resolve.js";
import { SchemaCompiler } from "../../../src/core/schema/compile.js";
import { collectDefaults } from "../../../src/core/schema/navigate.js";
import type { EnvironmentInfo } from "../../../src/core/model.js";
import type { JsonObject } from "../../../src/core/json.js";
import { toPlain } from "../../../src/core/yaml/nodes.js";
import { parseYaml } from "../../../src/core/yaml/parse.js";

const compiler = new SchemaCompiler();
const CHAIN = ["base", "mid", "leaf"];

export function resolveInline(
  schemaYaml: string,
  layers: Partial<Record<"base" | "mid" | "leaf", string>>,
  secretLayers: Partial<Record<"base" | "mid" | "leaf", string>> = {},
  extraSchemas: Record<string, string> = {},
) {
  const schemas = new Map<string, NamespaceSchema>();
  for (const [name, text] of Object.entries({ app: schemaYaml, ...extraSchemas })) {
    const file = `schemas/${name}.schema.yaml`;
    const parsed = parseYaml(text, file, { keys: "any", allowUnset: false });
    if (parsed.findings.length) throw new Error(JSON.stringify(parsed.findings));
    const node = parsed.documents[0]!;
    const schema = toPlain(node) as JsonObject;
    schemas.set(name, {
      name,
      file,
      schema,
      node,
      validator: compiler.compile(schema),
      defaults: collectDefaults(schema).defaults,
    });
  }
  const environments = new Map<string, EnvironmentInfo>();
  CHAIN.forEach((name, i) =>
    environments.set(name, {
      name,
      parent: i ? CHAIN[i - 1]! : null,
      abstract: i === 0,
      production: false,
      approvalRequired: false,
      description: null,
      metadata: {},
      chain: CHAIN.slice(0, i + 1),
    }),
  );
  const layerMap = new Map<string, Map<string, EnvironmentLayers>>();
  const parseFindings = [];
  for (const env of CHAIN) {
    const entry: EnvironmentLayers = {};
    for (const [kind, texts] of [
      ["plain", layers],
      ["secret", secretLayers],
    ] as const) {
      const text = texts[env as keyof typeof texts];
      if (text === undefined) continue;
      const file = `environments/${env}/app${kind === "secret" ? ".sops" : ""}.yaml`;
      const parsed = parseYaml(text, file, { keys: "segments", allowUnset: kind === "plain" });
      parseFindings.push(...parsed.findings);
      entry[kind] = {
        environment: env,
        namespace: "app",
        file,
        node: parsed.documents[0]!,
        encrypted: kind === "secret",
        ciphertextOnly: false,
      };
    }
    layerMap.set(env, new Map([["app", entry]]));
  }
  const resolver = new Resolver({ environments, schemas, layers: layerMap });
  const resolved = resolver.resolve("leaf");
  return {
    resolved,
    config: resolved.config,
    app: resolved.config.app,
    findings: [...parseFindings, ...resolved.findings],
    resolver,
  };
}
