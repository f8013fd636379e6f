/** strata.yaml: validated against the shipped schema, then the environment graph (SPEC §2). */
import { createFinding, type Finding } from "../findings.js";
import { isJsonObject, type JsonObject } from "../json.js";
import type { EnvironmentInfo } from "../model.js";
import { isValidName } from "../names.js";
import { locate } from "../yaml/locate.js";
import { toPlain, type LNode } from "../yaml/nodes.js";
import type { SchemaCompiler } from "../schema/compile.js";
import { strataYamlSchema } from "./strata-yaml-schema.js";

export const SETTINGS_FILE = "strata.yaml";

/** strata.yaml as written (snake_case, as SPEC §2 shows it). */
export interface Settings {
  version: 1;
  environments: Record<string, EnvironmentDeclaration>;
  runtime?: { recipients?: Record<string, string[]> };
  signing?: { trusted_keys?: string[] };
  distribution?: { endpoint?: string; expires_after?: string };
  approvals?: JsonObject;
}

export interface EnvironmentDeclaration {
  parent?: string;
  description?: string;
  abstract?: boolean;
  production?: boolean;
  approval_required?: boolean;
  metadata?: JsonObject;
}

export interface ParsedSettings {
  settings: Settings | null;
  environments: Map<string, EnvironmentInfo>;
  findings: Finding[];
}

/** Validates the parsed strata.yaml and builds the environment graph; all problems as findings. */
export function parseSettings(root: LNode | null, compiler: SchemaCompiler): ParsedSettings {
  const file = SETTINGS_FILE;
  const findings: Finding[] = [];
  const environments = new Map<string, EnvironmentInfo>();
  if (!root) {
    findings.push(createFinding({ code: "invalid-type", message: `${file} is empty`, file, line: 1, column: 1, hint: "it needs at least `version: 1` and `environments:`" }));
    return { settings: null, environments, findings };
  }
  const plain = toPlain(root);
  const validate = compiler.compileInternal("strata.yaml", strataYamlSchema as unknown as JsonObject);
  if (!validate(plain)) {
    for (const err of validate.errors ?? []) {
      if (err.propertyName !== undefined) continue; // names are checked below, with a clearer message
      const segs = err.instancePath === "" ? [] : err.instancePath.slice(1).split("/").map((s) => s.replace(/~1/g, "/").replace(/~0/g, "~"));
      const extra = err.keyword === "additionalProperties" ? String((err.params as { additionalProperty: string }).additionalProperty) : null;
      const loc = locate(root, extra ? [...segs, extra] : segs);
      const pos = (extra ? loc.keyPos : null) ?? loc.pos;
      const where = segs.length ? segs.join(".") : "(top level)";
      let code: Finding["code"] = "invalid-type";
      let message = `${file}:${pos.line}:${pos.column}: ${where} ${err.message ?? "is invalid"}`;
      if (err.keyword === "additionalProperties") { code = "unknown-key"; message = `${file}:${pos.line}:${pos.column}: unknown setting "${[...segs, extra].join(".")}"`; }
      else if (err.keyword === "required") { code = "missing-required"; message = `${file}:${pos.line}:${pos.column}: ${where} must have "${(err.params as { missingProperty: string }).missingProperty}"`; }
      else if ((err.keyword === "pattern" || err.keyword === "maxLength") && segs[0] === "environments" && segs.length <= 3) code = "invalid-name";
      else if (err.keyword === "propertyNames") continue; // reported with the name below
      else if (err.keyword !== "type") code = "constraint-violation";
      findings.push(createFinding({ code, message, file, line: pos.line, column: pos.column, key: segs.join(".") || null }));
    }
  }
  if (!isJsonObject(plain) || !isJsonObject(plain.environments)) return { settings: null, environments, findings };
  const envNode = locate(root, ["environments"]).node;
  const decls = plain.environments as Record<string, EnvironmentDeclaration>;

  for (const name of Object.keys(decls)) {
    if (!isValidName(name)) {
      const e = envNode.kind === "map" ? envNode.entries.get(name) : undefined;
      const pos = e?.keyPos ?? envNode.pos;
      findings.push(createFinding({ code: "invalid-name", message: `${file}:${pos.line}:${pos.column}: invalid environment name "${name}"`, file, line: pos.line, column: pos.column, hint: "environment names match ^[a-z0-9][a-z0-9-]*$, at most 64 characters" }));
    }
  }

  // Parents and cycles, each reported once at the `parent:` that closes it.
  const chains = new Map<string, string[]>();
  const reported = new Set<string>();
  for (const name of Object.keys(decls)) {
    if (!isValidName(name)) continue;
    const chain: string[] = [];
    let current: string | undefined = name;
    let ok = true;
    while (current !== undefined) {
      if (chain.includes(current)) {
        const cycle = [...chain.slice(chain.indexOf(current)), current];
        const key = [...cycle].sort().join(",");
        if (!reported.has(key)) {
          reported.add(key);
          const at = locate(root, ["environments", current, "parent"]).pos;
          findings.push(createFinding({ code: "circular-inheritance", message: `${file}:${at.line}:${at.column}: environments inherit in a circle: ${cycle.join(" -> ")}`, file, line: at.line, column: at.column, environment: current }));
        }
        ok = false;
        break;
      }
      chain.push(current);
      const decl: EnvironmentDeclaration | undefined = decls[current];
      const parent: string | undefined = decl && typeof decl.parent === "string" ? decl.parent : undefined;
      if (parent !== undefined && !Object.hasOwn(decls, parent)) {
        if (current === name) {
          const at = locate(root, ["environments", current, "parent"]).pos;
          findings.push(createFinding({ code: "unknown-environment", message: `${file}:${at.line}:${at.column}: environment "${current}" has unknown parent "${parent}"`, file, line: at.line, column: at.column, environment: current, hint: `declare "${parent}" under environments, or fix the name` }));
        }
        ok = false;
        break;
      }
      current = parent;
    }
    if (ok) chains.set(name, chain.reverse());
  }

  // Recipients of an environment strata.yaml does not declare would never be used: say so.
  const recipients = isJsonObject(plain.runtime) && isJsonObject(plain.runtime.recipients) ? plain.runtime.recipients : {};
  for (const name of Object.keys(recipients)) {
    if (Object.hasOwn(decls, name)) continue;
    const node = locate(root, ["runtime", "recipients"]).node;
    const pos = (node.kind === "map" ? node.entries.get(name)?.keyPos : undefined) ?? node.pos;
    findings.push(createFinding({ code: "unknown-environment", message: `${file}:${pos.line}:${pos.column}: runtime.recipients names "${name}", which is not a declared environment`, file, line: pos.line, column: pos.column, environment: name, hint: "fix the name, or declare the environment under environments:" }));
  }

  for (const [name, chain] of chains) {
    const decl = decls[name] ?? {};
    let production = false;
    for (const env of chain) {
      const p = decls[env]?.production;
      if (typeof p === "boolean") production = p;
    }
    environments.set(name, {
      name,
      parent: typeof decl.parent === "string" ? decl.parent : null,
      abstract: decl.abstract === true,
      production,
      approvalRequired: typeof decl.approval_required === "boolean" ? decl.approval_required : production,
      description: typeof decl.description === "string" ? decl.description : null,
      metadata: isJsonObject(decl.metadata) ? decl.metadata : {},
      chain,
    });
  }
  return { settings: plain as unknown as Settings, environments, findings };
}

/** age recipients for an environment's snapshots: its own, else the nearest ancestor's (SPEC §2). */
export function runtimeRecipients(settings: Settings, env: EnvironmentInfo): string[] {
  const table = settings.runtime?.recipients ?? {};
  for (let i = env.chain.length - 1; i >= 0; i--) {
    const r = table[env.chain[i]!];
    if (r) return r;
  }
  return [];
}
