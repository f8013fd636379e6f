/** strata.yaml: validated against the shipped schema, then the environment graph (docs/reference.md, strata.yaml). */
import { compareEnvironmentNames, createFinding, findingAt, type Finding } from "../findings.js";
import { isJsonObject, type JsonObject } from "../json.js";
import { parseJsonPointer } from "../json-pointer.js";
import type { EnvironmentInfo } from "../model.js";
import { isValidName, NAME_RULE } from "../names.js";
import { locate } from "../yaml/locate.js";
import { toPlain, type LNode } from "../yaml/nodes.js";
import type { SchemaCompiler } from "../schema/compile.js";
import { schemasAt } from "../schema/navigate.js";
import { suggestClosest } from "../suggest.js";
import { parseRolloutSettings, type RolloutSettings } from "../rollout/policy.js";
import { parseServices, type Services } from "../services/services.js";
import { strataYamlSchema } from "./strata-yaml-schema.js";

export const SETTINGS_FILE = "strata.yaml";

/** strata.yaml as written (snake_case, as docs/reference.md shows it). */
export interface Settings {
  version: 1;
  environments: Record<string, EnvironmentDeclaration>;
  runtime?: { recipients?: Record<string, string[]> };
  services?: Record<string, JsonObject>;
  signing?: { trusted_keys?: string[] };
  distribution?: { endpoint?: string; expires_after?: string };
  approvals?: JsonObject;
  rollouts?: JsonObject;
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
  /** The located document the settings came from, for readers of one section (approvals) to locate their own findings. */
  root?: LNode | null;
  settings: Settings | null;
  environments: Map<string, EnvironmentInfo>;
  /** The rollouts section as a typed model (core/rollout/policy.ts); absent when strata.yaml could not be read. */
  rollouts?: RolloutSettings;
  /** The services section as a model (core/services/services.ts); empty when strata.yaml declares none. */
  services?: Services;
  findings: Finding[];
}

/** Validates the parsed strata.yaml and builds the environment graph; all problems as findings. */
export function parseSettings(root: LNode | null, compiler: SchemaCompiler): ParsedSettings {
  const file = SETTINGS_FILE;
  const findings: Finding[] = [];
  const environments = new Map<string, EnvironmentInfo>();
  if (!root) {
    findings.push(
      createFinding({
        code: "invalid-type",
        message: `${file} is empty`,
        file,
        line: 1,
        column: 1,
        hint: "it needs at least `version: 1` and `environments:`",
      }),
    );
    return { root, settings: null, environments, findings };
  }
  const plain = toPlain(root);
  const validate = compiler.compileInternal("strata.yaml", strataYamlSchema as unknown as JsonObject);
  if (!validate(plain)) {
    for (const err of validate.errors ?? []) {
      if (err.propertyName !== undefined) continue; // names are checked below, with a clearer message
      // The rollouts section reports its own problems, each located at the value to fix (core/rollout/policy.ts).
      if (err.instancePath === "/rollouts" || err.instancePath.startsWith("/rollouts/")) continue;
      const segs = parseJsonPointer(err.instancePath);
      const extra =
        err.keyword === "additionalProperties"
          ? String((err.params as { additionalProperty: string }).additionalProperty)
          : null;
      const loc = locate(root, extra ? [...segs, extra] : segs);
      const pos = (extra ? loc.keyPos : null) ?? loc.pos;
      const where = segs.length ? segs.join(".") : "(top level)";
      let code: Finding["code"] = "invalid-type";
      let message = `${where} ${err.message ?? "is invalid"}`;
      let hint: string | null = null;
      if (err.keyword === "additionalProperties") {
        code = "unknown-key";
        message = `unknown setting "${[...segs, extra].join(".")}"`;
        const near = suggestClosest(extra ?? "", knownSettings(segs));
        if (near !== null) hint = `did you mean ${near}?`;
      } else if (err.keyword === "required") {
        code = "missing-required";
        message = `${where} must have "${(err.params as { missingProperty: string }).missingProperty}"`;
      } else if (
        (err.keyword === "pattern" || err.keyword === "maxLength") &&
        segs[0] === "environments" &&
        segs.length <= 3
      ) {
        // A parent that names no valid environment: the same words as a declaration's invalid name.
        code = "invalid-name";
        const value = loc.node.kind === "scalar" ? String(loc.node.value) : "";
        message = `${where}: invalid environment name "${value}"`;
        hint = `environment ${NAME_RULE}`;
      } else if (
        (err.keyword === "pattern" || err.keyword === "maxLength") &&
        segs[0] === "services" &&
        (segs[2] === "namespaces" || segs[2] === "environments") &&
        segs.length === 4
      ) {
        const value = loc.node.kind === "scalar" ? String(loc.node.value) : "";
        const what = segs[2] === "namespaces" ? "namespace" : "environment";
        code = "invalid-name";
        message = `services.${segs[1]}.${segs[2]}[${segs[3]}]: invalid ${what} name "${value}"`;
        hint = `${what} ${NAME_RULE}`;
      } else if (err.keyword === "propertyNames")
        continue; // reported with the name below
      else if (err.keyword !== "type") code = "constraint-violation";
      findings.push(
        findingAt(code, { file, line: pos.line, column: pos.column }, message, { key: segs.join(".") || null, hint }),
      );
    }
  }
  if (!isJsonObject(plain) || !isJsonObject(plain.environments))
    return { root, settings: null, environments, findings };
  const envNode = locate(root, ["environments"]).node;
  const decls = plain.environments as Record<string, EnvironmentDeclaration>;

  for (const name of Object.keys(decls)) {
    if (!isValidName(name)) {
      const e = envNode.kind === "map" ? envNode.entries.get(name) : undefined;
      const pos = e?.keyPos ?? envNode.pos;
      findings.push(
        findingAt("invalid-name", { file, line: pos.line, column: pos.column }, `invalid environment name "${name}"`, {
          hint: `environment ${NAME_RULE}`,
        }),
      );
    }
  }

  const chains = buildChains(decls, root, findings);
  // Recipients of an environment strata.yaml does not declare would never be used: say so.
  const recipients =
    isJsonObject(plain.runtime) && isJsonObject(plain.runtime.recipients) ? plain.runtime.recipients : {};
  for (const name of Object.keys(recipients)) {
    if (Object.hasOwn(decls, name)) continue;
    const node = locate(root, ["runtime", "recipients"]).node;
    const pos = (node.kind === "map" ? node.entries.get(name)?.keyPos : undefined) ?? node.pos;
    findings.push(
      findingAt(
        "unknown-environment",
        { file, line: pos.line, column: pos.column },
        `runtime.recipients names "${name}", which is not a declared environment`,
        { environment: name, hint: "fix the name, or declare the environment under environments:" },
      ),
    );
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
  const rollouts = parseRolloutSettings(root);
  findings.push(...rollouts.findings);
  const services = parseServices(root, plain, new Set(Object.keys(decls)));
  findings.push(...services.findings);
  return {
    root,
    settings: plain as unknown as Settings,
    environments,
    rollouts: rollouts.settings,
    services: services.services,
    findings,
  };
}

/** The settings strata.yaml's schema declares for the map at `path`. */
function knownSettings(path: readonly string[]): string[] {
  const keys = new Set<string>();
  for (const s of schemasAt(strataYamlSchema as unknown as JsonObject, path))
    if (isJsonObject(s.properties)) for (const k of Object.keys(s.properties)) keys.add(k);
  return [...keys];
}

/** Levels of inheritance an environment may have, itself included: deeper graphs are a mistake, not a design. */
export const MAX_INHERITANCE_DEPTH = 64;

/**
 * Each environment's chain (root first), in time linear in the number of environments and without
 * recursion, so a hostile strata.yaml cannot exhaust time or the stack. An unknown parent, a cycle and a
 * chain deeper than {@link MAX_INHERITANCE_DEPTH} are each reported once, at the `parent:` to fix, and
 * listing every environment they leave without a chain; those environments get none.
 */
function buildChains(
  decls: Record<string, EnvironmentDeclaration>,
  root: LNode,
  findings: Finding[],
): Map<string, string[]> {
  const file = SETTINGS_FILE;
  const names = Object.keys(decls).filter(isValidName);
  const parentOf = (name: string): string | undefined => {
    const decl = decls[name];
    return decl && typeof decl.parent === "string" ? decl.parent : undefined;
  };
  // null: no chain (broken below or above); a finding explains which.
  const chains = new Map<string, string[] | null>();
  // The finding that broke each environment's chain, so descendants are listed on it.
  const brokenBy = new Map<string, Finding>();

  for (const name of names) {
    if (chains.has(name)) continue;
    // Walk up until an environment with a known answer, a root, an unknown parent or a cycle.
    const path: string[] = [];
    const onPath = new Map<string, number>();
    let current: string | undefined = name;
    let base: string[] | null = [];
    let broken: Finding | undefined;
    while (current !== undefined) {
      if (chains.has(current)) {
        base = chains.get(current)!;
        broken = brokenBy.get(current);
        break;
      }
      const seenAt = onPath.get(current);
      if (seenAt !== undefined) {
        const cycle = [...path.slice(seenAt), current];
        const at = locate(root, ["environments", current, "parent"]).pos;
        broken = findingAt(
          "circular-inheritance",
          { file, line: at.line, column: at.column },
          `environments inherit in a circle: ${cycle.join(" -> ")}`,
          {
            environment: current,
            hint: `remove the parent: of one of ${cycle.slice(0, -1).join(", ")} (that one becomes a root), or point it at an environment outside the circle`,
          },
        );
        findings.push(broken);
        base = null;
        break;
      }
      onPath.set(current, path.length);
      path.push(current);
      const parent = parentOf(current);
      if (parent !== undefined && (!Object.hasOwn(decls, parent) || !isValidName(parent))) {
        if (Object.hasOwn(decls, parent)) {
          base = null;
          break;
        } // an invalid name, reported as such
        const at = locate(root, ["environments", current, "parent"]).pos;
        const declared = names.filter((n) => n !== current).sort(compareEnvironmentNames);
        const near = suggestClosest(parent, declared);
        broken = findingAt(
          "unknown-environment",
          { file, line: at.line, column: at.column },
          `environment "${current}" has unknown parent "${parent}"`,
          {
            environment: current,
            hint: near
              ? `did you mean "${near}"? (declared: ${declared.join(", ")})`
              : `declared: ${declared.join(", ")}; declare "${parent}" under environments, or fix the name`,
          },
        );
        findings.push(broken);
        chains.set(current, null);
        brokenBy.set(current, broken);
        path.pop();
        base = null;
        break;
      }
      current = parent;
    }
    // Unwind from the top of the walk down to `name`.
    for (let i = path.length - 1; i >= 0; i--) {
      const env = path[i]!;
      if (chains.has(env)) {
        base = chains.get(env)!;
        continue;
      }
      if (base !== null && base.length >= MAX_INHERITANCE_DEPTH) {
        const at = locate(root, ["environments", env, "parent"]).pos;
        broken = findingAt(
          "constraint-violation",
          { file, line: at.line, column: at.column },
          `environment "${env}" would inherit ${base.length + 1} levels deep (${base[0]} -> … -> ${base[base.length - 1]} -> ${env}); at most ${MAX_INHERITANCE_DEPTH} levels are allowed`,
          {
            environment: env,
            hint: "give it a parent nearer the root: long chains are hard to reason about, and each level is a layer to resolve",
          },
        );
        findings.push(broken);
        base = null;
      }
      const chain: string[] | null = base === null ? null : [...base, env];
      chains.set(env, chain);
      if (chain === null && broken) brokenBy.set(env, broken);
      base = chain;
    }
  }

  // Each finding lists every environment it leaves without a chain (so none is reported as undeclared).
  const affected = new Map<Finding, Set<string>>();
  for (const [env, f] of brokenBy) {
    let set = affected.get(f);
    if (!set) affected.set(f, (set = new Set(f.environment === null ? [] : [f.environment])));
    set.add(env);
  }
  for (const [f, envs] of affected) f.environments = [...envs].sort(compareEnvironmentNames);
  const result = new Map<string, string[]>();
  for (const name of names) {
    const chain = chains.get(name);
    if (chain) result.set(name, chain);
  }
  return result;
}

/** age recipients for an environment's snapshots: its own, else the nearest ancestor's (docs/reference.md, strata.yaml). */
export function runtimeRecipients(settings: Settings, env: EnvironmentInfo): string[] {
  const table = settings.runtime?.recipients ?? {};
  for (let i = env.chain.length - 1; i >= 0; i--) {
    const r = table[env.chain[i]!];
    if (r) return r;
  }
  return [];
}
