/**
 * The seam with the diff (SPEC §7): its JSON document, reduced to the changes approvals judge. The
 * diff may carry each key's `approvers` (`x-approvers`) itself; otherwise the caller looks them up in
 * the schema metadata.
 */
import type { EnvironmentFlags } from "./config.js";
import type { ApprovalChange } from "./match.js";

/** The parts of SPEC §7's diff JSON that approvals read. Extra fields are ignored. */
export interface DiffForApprovals {
  environments: Record<string, {
    changes: { key: string; sensitive?: boolean; approvers?: string[] }[];
  }>;
}

export function approvalChangesFromDiff(
  diff: DiffForApprovals,
  options: {
    /** Environment flags from strata.yaml (SPEC §2), when known. */
    environments?: Readonly<Record<string, EnvironmentFlags>>;
    /** `x-approvers` of a key, when the diff does not carry them. */
    approversOf?: (key: string, environment: string) => readonly string[];
  } = {},
): ApprovalChange[] {
  const out: ApprovalChange[] = [];
  for (const [environment, env] of Object.entries(diff.environments)) {
    const flags = options.environments?.[environment];
    for (const c of env.changes) {
      out.push({
        environment,
        key: c.key,
        sensitive: c.sensitive === true,
        approvers: [...(c.approvers ?? options.approversOf?.(c.key, environment) ?? [])],
        ...(flags ? { production: flags.production, approvalRequired: flags.approvalRequired } : {}),
      });
    }
  }
  return out;
}

/** Fills in the environment flags a change source did not know, from strata.yaml (the base's). */
export function withEnvironmentFlags(changes: readonly ApprovalChange[], environments: Readonly<Record<string, EnvironmentFlags>>): ApprovalChange[] {
  return changes.map((c) => {
    const flags = environments[c.environment];
    if (!flags) return c;
    return { ...c, production: c.production ?? flags.production, approvalRequired: c.approvalRequired ?? flags.approvalRequired };
  });
}
