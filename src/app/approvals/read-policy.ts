/**
 * The approval policy of one strata.yaml text (for a pull request, the base branch's copy), read through
 * the one strata.yaml reader every command uses, so its errors are located the same way everywhere.
 */
import { EMPTY_APPROVAL_CONFIG, parseApprovalPolicy, type ApprovalPolicy } from "../../core/approvals/config.js";
import { SETTINGS_FILE } from "../../core/settings/settings.js";
import type { RepoFiles } from "../../core/source.js";
import { readSettings } from "../repository.js";

/** The policy of `text` (null: the file does not exist, so there are no rules). */
export async function readApprovalPolicy(text: string | null, label = SETTINGS_FILE): Promise<ApprovalPolicy> {
  if (text === null) return { config: EMPTY_APPROVAL_CONFIG, environments: {}, findings: [] };
  const bytes = new TextEncoder().encode(text);
  const files: RepoFiles = {
    label,
    list: () => Promise.resolve([SETTINGS_FILE]),
    read: (path) => Promise.resolve(path === SETTINGS_FILE ? bytes : null),
  };
  return parseApprovalPolicy(await readSettings(files));
}
