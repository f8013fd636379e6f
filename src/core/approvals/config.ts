/**
 * The `approvals` section of strata.yaml (docs/reference.md, strata.yaml): read by the one strata.yaml reader
 * (schema-checked, located), then turned into rules; all problems reported as located findings. Pure: the
 * document comes from the caller (for a pull request, the base branch's copy).
 */
import { createFinding, type Finding } from "../findings.js";
import { isJsonObject } from "../json.js";
import { locate } from "../yaml/locate.js";
import { toPlain, type LNode } from "../yaml/nodes.js";

/** Who may satisfy a rule: a login (`alice`, `@alice`) or a team (`@org/team`). */
export type Owner = string;

/** One rule: when every given condition holds for a change, `require` approvals from `from` are needed. */
export interface ApprovalRule {
  name: string;
  when: {
    /** Environment globs; null matches every environment. */
    environments: string[] | null;
    /** Key globs (`*` one segment, `**` many); null matches every key. */
    keys: string[] | null;
    /** true: only sensitive changes; false: only non-sensitive ones; null: both. */
    sensitive: boolean | null;
    /** Service globs (strata.yaml `services:`): changes some matching service receives; null: any change. */
    services?: string[] | null;
  };
  require: number;
  /** Owners whose approvals count; empty means any reviewer other than the author. */
  from: Owner[];
}

export interface EmergencyPolicy {
  /** The pull request label that declares an emergency. */
  label: string;
  /** What every requirement is lowered to while the label is present. */
  require: number;
}

export interface ApprovalConfig {
  rules: ApprovalRule[];
  emergency: EmergencyPolicy | null;
  /** Approvals given on an older head commit do not count (default true). */
  dismissStale: boolean;
}

export const EMPTY_APPROVAL_CONFIG: ApprovalConfig = { rules: [], emergency: null, dismissStale: true };

/** An environment's flags that approvals care about (docs/reference.md, strata.yaml). */
export interface EnvironmentFlags {
  production: boolean;
  approvalRequired: boolean;
}

/**
 * `production` (inherited by children unless they set it) and `approval_required` (default: the
 * environment's production flag) of every environment in strata.yaml. Approvals read them from the
 * base branch like the rules, so a pull request cannot switch its own gate off.
 */
function readEnvironmentFlags(strataYaml: unknown): Record<string, EnvironmentFlags> {
  const out: Record<string, EnvironmentFlags> = {};
  if (!isJsonObject(strataYaml) || !isJsonObject(strataYaml.environments)) return out;
  const envs = strataYaml.environments;
  const production = (name: string, seen: Set<string>): boolean => {
    const e = envs[name];
    if (!isJsonObject(e) || seen.has(name)) return false;
    if (typeof e.production === "boolean") return e.production;
    seen.add(name);
    return typeof e.parent === "string" ? production(e.parent, seen) : false;
  };
  for (const name of Object.keys(envs)) {
    const e = envs[name];
    const p = production(name, new Set());
    const explicit = isJsonObject(e) && typeof e.approval_required === "boolean" ? e.approval_required : null;
    out[name] = { production: p, approvalRequired: explicit ?? p };
  }
  return out;
}

/** Where a path inside strata.yaml is, for located findings. */
export type Locate = (path: readonly (string | number)[]) => { line: number; column: number } | null;

const OWNER = /^@?[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?(?:\[bot\])?(?:\/[A-Za-z0-9_.-]+)?$/;

/** Whether an owner names a team (`@org/team`). */
export function isTeamOwner(owner: Owner): boolean {
  return owner.includes("/");
}

/** `@Alice` and `alice` are the same GitHub login; teams keep their `@org/slug` form, lowercased. */
export function normalizeOwner(owner: Owner): string {
  const o = owner.trim().toLowerCase();
  if (isTeamOwner(o)) return o.startsWith("@") ? o : `@${o}`;
  return o.replace(/^@/, "");
}

export interface ApprovalPolicy {
  config: ApprovalConfig;
  environments: Record<string, EnvironmentFlags>;
  findings: Finding[];
}

/** What the one strata.yaml reader (`parseSettings`, with the YAML parse's own findings) hands approvals. */
export interface ReadStrataYaml {
  root?: LNode | null;
  findings: Finding[];
  parseFindings?: Finding[];
}

/**
 * The approval policy from strata.yaml as the one schema-checked reader left it: its syntax errors and its
 * schema findings under `approvals` (located), then the rules' own checks (duplicate names, owner
 * names) located in the same document. Problems elsewhere in strata.yaml are the other commands' concern:
 * they do not make the rules unreadable.
 */
export function parseApprovalPolicy(read: ReadStrataYaml, file = "strata.yaml"): ApprovalPolicy {
  const syntax = (read.parseFindings ?? []).filter((f) => f.severity === "error");
  const root = read.root ?? null;
  if (syntax.length > 0 || root === null) return { config: EMPTY_APPROVAL_CONFIG, environments: {}, findings: syntax };
  const value = toPlain(root);
  const schemaFindings = read.findings.filter(
    (f) => f.key === "approvals" || (f.key?.startsWith("approvals.") ?? false),
  );
  const environments = readEnvironmentFlags(value);
  // The schema already said what is wrong with the section's shape; the rules cannot be read.
  if (schemaFindings.some((f) => f.severity === "error"))
    return { config: EMPTY_APPROVAL_CONFIG, environments, findings: schemaFindings };
  const locateIn: Locate = (path) => {
    const at = locate(root, path);
    return { line: at.pos.line, column: at.pos.column };
  };
  const parsed = parseApprovalConfig(value, { file, locate: locateIn });
  return { ...parsed, findings: [...schemaFindings, ...parsed.findings], environments };
}

/** Validates the `approvals` section of an already parsed strata.yaml document. */
export function parseApprovalConfig(
  strataYaml: unknown,
  options: { file?: string; locate?: Locate } = {},
): { config: ApprovalConfig; findings: Finding[] } {
  const file = options.file ?? "strata.yaml";
  const findings: Finding[] = [];
  const report = (path: (string | number)[], message: string, hint?: string): void => {
    const at = options.locate?.(["approvals", ...path]) ?? null;
    findings.push(
      createFinding({
        code: "invalid-config",
        message: `approvals${path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("")}: ${message}`,
        file,
        line: at?.line ?? null,
        column: at?.column ?? null,
        hint: hint ?? null,
      }),
    );
  };
  if (!isJsonObject(strataYaml) || strataYaml.approvals === undefined || strataYaml.approvals === null) {
    return { config: EMPTY_APPROVAL_CONFIG, findings };
  }
  const section = strataYaml.approvals;
  if (!isJsonObject(section)) {
    report([], "must be a map with `rules`, `emergency` and `dismiss_stale`");
    return { config: EMPTY_APPROVAL_CONFIG, findings };
  }
  for (const k of Object.keys(section))
    if (!["rules", "emergency", "dismiss_stale"].includes(k))
      report([k], "unknown field", "allowed: rules, emergency, dismiss_stale");

  let dismissStale = true;
  if (section.dismiss_stale !== undefined) {
    if (typeof section.dismiss_stale === "boolean") dismissStale = section.dismiss_stale;
    else report(["dismiss_stale"], "must be true or false");
  }

  const rules: ApprovalRule[] = [];
  const names = new Set<string>();
  const rawRules = section.rules ?? [];
  if (!Array.isArray(rawRules)) report(["rules"], "must be a list of rules");
  else
    rawRules.forEach((raw, i) => {
      const rule = parseRule(raw, (path, message, hint) => report(["rules", i, ...path], message, hint));
      if (!rule) return;
      if (names.has(rule.name)) report(["rules", i, "name"], `duplicate rule name "${rule.name}"`);
      names.add(rule.name);
      rules.push(rule);
    });

  let emergency: EmergencyPolicy | null = null;
  if (section.emergency !== undefined && section.emergency !== null) {
    const e = section.emergency;
    if (!isJsonObject(e)) report(["emergency"], "must be a map { label, require }");
    else {
      const label = typeof e.label === "string" && e.label.trim() !== "" ? e.label : null;
      if (label === null) report(["emergency", "label"], "must be a non-empty label name");
      const require = e.require ?? 1;
      if (!isCount(require)) report(["emergency", "require"], "must be a whole number >= 0");
      for (const k of Object.keys(e))
        if (k !== "label" && k !== "require") report(["emergency", k], "unknown field", "allowed: label, require");
      if (label !== null && isCount(require)) emergency = { label, require };
    }
  }
  return { config: { rules, emergency, dismissStale }, findings };
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isInteger(v) && v >= 0;
}

function parseGlobs(
  v: unknown,
  path: string,
  report: (path: (string | number)[], message: string) => void,
): string[] | null {
  if (v === undefined || v === null) return null;
  const list = typeof v === "string" ? [v] : v;
  if (!Array.isArray(list) || list.some((g) => typeof g !== "string" || g === "")) {
    report(["when", path], "must be a list of globs");
    return null;
  }
  return list as string[];
}

function parseRule(
  raw: unknown,
  report: (path: (string | number)[], message: string, hint?: string) => void,
): ApprovalRule | null {
  if (!isJsonObject(raw)) {
    report([], "must be a map { name, when, require, from }");
    return null;
  }
  const before = { ok: true };
  const fail = (path: (string | number)[], message: string, hint?: string): void => {
    before.ok = false;
    report(path, message, hint);
  };
  for (const k of Object.keys(raw))
    if (!["name", "when", "require", "from"].includes(k))
      fail([k], "unknown field", "allowed: name, when, require, from");
  const name = typeof raw.name === "string" && raw.name.trim() !== "" ? raw.name : null;
  if (name === null) fail(["name"], "every rule needs a name");
  const when = raw.when ?? {};
  let environments: string[] | null = null;
  let keys: string[] | null = null;
  let sensitive: boolean | null = null;
  let services: string[] | null = null;
  if (!isJsonObject(when)) fail(["when"], "must be a map { environments, keys, sensitive, services }");
  else {
    for (const k of Object.keys(when))
      if (!["environments", "keys", "sensitive", "services"].includes(k))
        fail(["when", k], "unknown condition", "allowed: environments, keys, sensitive, services");
    environments = parseGlobs(when.environments, "environments", fail);
    keys = parseGlobs(when.keys, "keys", fail);
    services = parseGlobs(when.services, "services", fail);
    if (when.sensitive !== undefined && when.sensitive !== null) {
      if (typeof when.sensitive === "boolean") sensitive = when.sensitive;
      else fail(["when", "sensitive"], "must be true or false");
    }
  }
  const require = raw.require ?? 1;
  if (!isCount(require)) fail(["require"], "must be a whole number >= 0");
  const fromRaw = raw.from ?? [];
  const from = typeof fromRaw === "string" ? [fromRaw] : fromRaw;
  if (!Array.isArray(from) || from.some((o) => typeof o !== "string"))
    fail(["from"], "must be a list of logins and @org/team names");
  else
    from.forEach((o, j) => {
      if (!OWNER.test(o as string)) fail(["from", j], `"${String(o)}" is not a GitHub login or @org/team`);
    });
  if (!before.ok || name === null || !isCount(require) || !Array.isArray(from)) return null;
  return {
    name,
    when: { environments, keys, sensitive, ...(services !== null ? { services } : {}) },
    require,
    from: (from as string[]).map(normalizeOwner),
  };
}
