/**
 * Which services receive a change (docs/diff.md): each changed key reaches the services of its environment
 * that declare its namespace at either side (a pull request cannot hide a change by editing the list), and a change to a service's declaration
 * (namespaces, recipients, environments) reaches that service in every environment that runs it.
 */
import { isDeepStrictEqual } from "node:util";
import type { EnvironmentInfo } from "../model.js";
import { namespaceOf } from "../names.js";
import { servicesOf, servicesReceiving, type Services } from "../services/services.js";
import type { DiffResult } from "./model.js";

export interface ServicesSide {
  services: Services;
  environments: ReadonlyMap<string, EnvironmentInfo>;
}

/** The services whose declaration differs between the two sides (added and removed ones too), sorted. */
function changedServiceDeclarations(base: Services, head: Services): string[] {
  const names = new Set([...base.keys(), ...head.keys()]);
  return [...names].filter((n) => !isDeepStrictEqual(base.get(n), head.get(n))).sort();
}

/**
 * Annotates the diff in place: `services` on each key change and environment, `serviceDeclarations` on the
 * environments that run a service whose declaration changed (such an environment is listed even when no
 * value changed). Nothing is added when neither side declares services: the diff stays as it was.
 */
export function addServicesToDiff(
  result: DiffResult,
  base: ServicesSide | null,
  head: ServicesSide | null,
  /** `diff --env`: the environments asked for; others are never added. */
  wanted: (environment: string) => boolean = () => true,
): void {
  const headServices = head?.services ?? new Map();
  const declared = changedServiceDeclarations(base?.services ?? new Map(), headServices);
  if (headServices.size === 0 && declared.length === 0) return;
  for (const [name, env] of Object.entries(result.environments)) {
    // Both sides: a pull request that also takes the namespace out of a service's list still reaches it.
    const info = head?.environments.get(name);
    const baseInfo = base?.environments.get(env.renamedFrom ?? name);
    const receiving = new Set<string>();
    for (const c of env.changes) {
      const ns = [namespaceOf(c.key)];
      const names = new Set([
        ...(info ? servicesReceiving(headServices, info, ns) : []),
        ...(base && baseInfo ? servicesReceiving(base.services, baseInfo, ns) : []),
      ]);
      c.services = [...names].sort();
      for (const s of c.services) receiving.add(s);
    }
    env.services = [...receiving].sort();
  }
  if (head === null || declared.length === 0) return;
  for (const info of head.environments.values()) {
    if (info.abstract || !wanted(info.name)) continue;
    const runs = new Set(servicesOf(headServices, info).map((s) => s.name));
    // A service removed from strata.yaml no longer runs anywhere: the base side says where it ran.
    const baseInfo = base?.environments.get(info.name);
    if (base && baseInfo) for (const s of servicesOf(base.services, baseInfo)) runs.add(s.name);
    const hits = declared.filter((s) => runs.has(s));
    if (hits.length === 0) continue;
    const env = (result.environments[info.name] ??= {
      renamedFrom: null,
      status: "changed",
      production: info.production,
      changes: [],
      invalid: [],
      services: [],
    });
    env.serviceDeclarations = hits;
    env.services = [...new Set([...(env.services ?? []), ...hits])].sort();
  }
}
