/**
 * The seam with the diff (docs/diff.md): its JSON document, reduced to the changes approvals judge. The
 * diff may carry each key's `approvers` (`x-approvers`) itself; otherwise the caller looks them up in
 * the schema metadata.
 */
import type { EnvironmentFlags } from "./config.js";
import type { ApprovalChange } from "./match.js";

/** The parts of the diff JSON (docs/reference.md) that approvals read. Extra fields are ignored. */
export interface DiffForApprovals {
  environments: Record<
    string,
    {
      /** The environment's production flag, when the diff carries it. */
      production?: boolean;
      changes: { key: string; sensitive?: boolean; approvers?: string[]; services?: string[] }[];
      /** Services whose strata.yaml declaration changed and that run in the environment. */
      serviceDeclarations?: string[];
    }
  >;
}

export function approvalChangesFromDiff(
  diff: DiffForApprovals,
  options: {
    /** Environment flags from strata.yaml (docs/reference.md, strata.yaml), when known. */
    environments?: Readonly<Record<string, EnvironmentFlags>>;
    /** `x-approvers` of a key, when the diff does not carry them. */
    approversOf?: (key: string, environment: string) => readonly string[];
  } = {},
): ApprovalChange[] {
  const out: ApprovalChange[] = [];
  for (const [environment, env] of Object.entries(diff.environments)) {
    const known = options.environments?.[environment];
    const flags =
      known ??
      (typeof env.production === "boolean"
        ? { production: env.production, approvalRequired: env.production }
        : undefined);
    for (const c of env.changes) {
      out.push({
        environment,
        key: c.key,
        sensitive: c.sensitive === true,
        approvers: [...(c.approvers ?? options.approversOf?.(c.key, environment) ?? [])],
        ...(flags ? { production: flags.production, approvalRequired: flags.approvalRequired } : {}),
        ...(c.services ? { services: [...c.services] } : {}),
      });
    }
    // A change to what a service receives (its namespaces, recipients): a change to that service, with no key.
    for (const service of env.serviceDeclarations ?? []) {
      out.push({
        environment,
        key: `strata.yaml services.${service}`,
        sensitive: false,
        approvers: [],
        ...(flags ? { production: flags.production, approvalRequired: flags.approvalRequired } : {}),
        services: [service],
      });
    }
  }
  return out;
}

/**
 * Adds the base's environment flags (strata.yaml as it stands before the pull request). Either side
 * saying "production" or "approval required" makes it so: a pull request can make an environment
 * stricter on its own, never laxer.
 */
export function withEnvironmentFlags(
  changes: readonly ApprovalChange[],
  environments: Readonly<Record<string, EnvironmentFlags>>,
): ApprovalChange[] {
  return changes.map((c) => {
    const flags = environments[c.environment];
    if (!flags) return c;
    return {
      ...c,
      production: (c.production ?? false) || flags.production,
      approvalRequired: (c.approvalRequired ?? false) || flags.approvalRequired,
    };
  });
}

/** Whether a parsed JSON document looks like the diff JSON (docs/reference.md) (from `strata diff --format json`). */
export function isDiffForApprovals(doc: unknown): doc is DiffForApprovals {
  if (typeof doc !== "object" || doc === null) return false;
  const envs = (doc as { environments?: unknown }).environments;
  if (typeof envs !== "object" || envs === null || Array.isArray(envs)) return false;
  return Object.values(envs).every(
    (e: unknown) =>
      typeof e === "object" &&
      e !== null &&
      Array.isArray((e as { changes?: unknown }).changes) &&
      (e as { changes: unknown[] }).changes.every(
        (c) => typeof c === "object" && c !== null && typeof (c as { key?: unknown }).key === "string",
      ),
  );
}
