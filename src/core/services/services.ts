/**
 * Services (docs/distribution.md, "Services"): the `services:` section of strata.yaml. Each service declares the
 * namespaces it reads and the age recipients of its runtime identities; its snapshot of an environment holds
 * only those namespaces, and its secrets are encrypted to its own recipients (plus `runtime.recipients`, the
 * operator's break-glass keys). The one home of which services an environment declares, who decrypts a
 * service's secrets, and which services a change reaches.
 */
import { findingAt, type Finding } from "../findings.js";
import { isJsonObject, type JsonValue } from "../json.js";
import type { EnvironmentInfo } from "../model.js";
import { isValidName, NAME_RULE } from "../names.js";
import { suggestClosest } from "../suggest.js";
import { locate } from "../yaml/locate.js";
import type { LNode } from "../yaml/nodes.js";

const FILE = "strata.yaml";

export interface ServiceDeclaration {
  name: string;
  /** The namespaces the service reads, as declared (distinct). */
  namespaces: string[];
  /** The age recipients of its runtime identities: for every environment, or per environment (inherited). */
  recipients: string[] | Record<string, string[]>;
  /** The environments (and their descendants) that run it; null: every environment. */
  environments: string[] | null;
}

/** The services of strata.yaml, by name, in the order declared. */
export type Services = ReadonlyMap<string, ServiceDeclaration>;

/**
 * The `services:` section as a model, with located findings for what the shipped schema cannot say: a
 * service name outside the name rule, and recipients or `environments` naming undeclared environments.
 * Shapes the schema refuses are left out of the model (the schema's findings say why).
 */
export function parseServices(
  root: LNode,
  plain: JsonValue,
  declaredEnvironments: ReadonlySet<string>,
): { services: Map<string, ServiceDeclaration>; findings: Finding[] } {
  const services = new Map<string, ServiceDeclaration>();
  const findings: Finding[] = [];
  if (!isJsonObject(plain) || !isJsonObject(plain.services)) return { services, findings };
  const section = locate(root, ["services"]).node;
  const unknownEnvironment = (path: (string | number)[], env: string, what: string): void => {
    const loc = locate(root, path);
    const pos = loc.keyPos && typeof path[path.length - 1] === "string" ? loc.keyPos : loc.pos;
    const near = suggestClosest(env, declaredEnvironments);
    findings.push(
      findingAt(
        "unknown-environment",
        { ...pos, file: FILE },
        `${what} names "${env}", which is not a declared environment`,
        {
          environment: env,
          hint:
            near !== null ? `did you mean "${near}"?` : "fix the name, or declare the environment under environments:",
        },
      ),
    );
  };
  for (const [name, decl] of Object.entries(plain.services)) {
    if (!isValidName(name)) {
      const pos = (section.kind === "map" ? section.entries.get(name)?.keyPos : undefined) ?? section.pos;
      findings.push(
        findingAt("invalid-name", { ...pos, file: FILE }, `invalid service name "${name}"`, {
          hint: `service ${NAME_RULE}`,
        }),
      );
      continue;
    }
    if (!isJsonObject(decl) || !Array.isArray(decl.namespaces)) continue;
    const namespaces = [...new Set(decl.namespaces.filter((n): n is string => typeof n === "string"))];
    let recipients: ServiceDeclaration["recipients"] = [];
    if (Array.isArray(decl.recipients)) recipients = decl.recipients.filter((r): r is string => typeof r === "string");
    else if (isJsonObject(decl.recipients)) {
      const table: Record<string, string[]> = {};
      for (const [env, list] of Object.entries(decl.recipients)) {
        if (!declaredEnvironments.has(env))
          unknownEnvironment(["services", name, "recipients", env], env, `services.${name}.recipients`);
        if (Array.isArray(list)) table[env] = list.filter((r): r is string => typeof r === "string");
      }
      recipients = table;
    }
    let environments: string[] | null = null;
    if (Array.isArray(decl.environments)) {
      environments = decl.environments.filter((e): e is string => typeof e === "string");
      environments.forEach((env, i) => {
        if (!declaredEnvironments.has(env))
          unknownEnvironment(["services", name, "environments", i], env, `services.${name}.environments`);
      });
    }
    services.set(name, { name, namespaces, recipients, environments });
  }
  return { services, findings };
}

/**
 * Each declared namespace must exist (have a schema): a located `unknown-namespace` at the list item, with the
 * closest namespace as a hint.
 */
export function checkServiceNamespaces(
  services: Services,
  root: LNode | null | undefined,
  namespaces: ReadonlySet<string>,
): Finding[] {
  const findings: Finding[] = [];
  if (!root) return findings;
  for (const service of services.values()) {
    const node = locate(root, ["services", service.name, "namespaces"]).node;
    if (node.kind !== "seq") continue;
    node.items.forEach((item, i) => {
      if (item.kind !== "scalar" || typeof item.value !== "string" || namespaces.has(item.value)) return;
      if (!isValidName(item.value)) return; // an invalid name, reported as such
      const near = suggestClosest(item.value, namespaces);
      findings.push(
        findingAt(
          "unknown-namespace",
          { ...item.pos, file: FILE },
          `services.${service.name}.namespaces[${i}]: namespace "${item.value}" has no schema (schemas/${item.value}.schema.yaml)`,
          {
            key: `services.${service.name}.namespaces`,
            hint: near !== null ? `did you mean "${near}"?` : "add the schema, or fix the name",
          },
        ),
      );
    });
  }
  return findings;
}

/** The services an environment runs: those without `environments`, and those naming it or an ancestor. */
export function servicesOf(services: Services, environment: EnvironmentInfo): ServiceDeclaration[] {
  const chain = new Set(environment.chain);
  return [...services.values()].filter((s) => s.environments === null || s.environments.some((e) => chain.has(e)));
}

/** A service of an environment, or null when the environment does not run it. */
export function serviceOf(services: Services, environment: EnvironmentInfo, name: string): ServiceDeclaration | null {
  return servicesOf(services, environment).find((s) => s.name === name) ?? null;
}

/**
 * Who decrypts a service's secrets in an environment: its own recipients (a list, or the nearest ancestor's
 * entry of its table) and the operator's break-glass `runtime.recipients` of the environment, distinct.
 */
export function serviceRecipients(
  service: ServiceDeclaration,
  environment: EnvironmentInfo,
  breakGlass: readonly string[],
): string[] {
  let own: readonly string[] = [];
  if (Array.isArray(service.recipients)) own = service.recipients;
  else {
    const table = service.recipients;
    for (let i = environment.chain.length - 1; i >= 0; i--) {
      const r = table[environment.chain[i]!];
      if (r) {
        own = r;
        break;
      }
    }
  }
  return [...new Set([...own, ...breakGlass])];
}

/** The services of an environment that receive a change to any of `namespaces`, by name, sorted. */
export function servicesReceiving(
  services: Services,
  environment: EnvironmentInfo,
  namespaces: Iterable<string>,
): string[] {
  const changed = new Set(namespaces);
  return servicesOf(services, environment)
    .filter((s) => s.namespaces.some((n) => changed.has(n)))
    .map((s) => s.name)
    .sort();
}
