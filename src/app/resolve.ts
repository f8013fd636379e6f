/** `strata resolve` and `strata explain`: one environment's effective config and its provenance. */
import { compareFindings, type Finding } from "../core/findings.js";
import type { ResolvedEnvironment } from "../core/model.js";
import type { RepoFiles, SecretsOpener } from "../core/source.js";
import { loadRepository, resolveEnvironment, unknownEnvironment, type Repository } from "./repository.js";

export interface ResolveOptions {
  files: RepoFiles;
  environment: string;
  secrets: SecretsOpener | null | undefined;
}

export interface ResolveResult {
  repo: Repository;
  resolved: ResolvedEnvironment;
  /** Repository and environment findings together, sorted. */
  findings: Finding[];
}

export async function resolveConfig(options: ResolveOptions): Promise<ResolveResult> {
  const repo = await loadRepository(options.files, { secrets: options.secrets, environments: new Set([options.environment]) });
  if (!repo.environments.has(options.environment)) {
    // A broken strata.yaml explains the unknown name better than "unknown environment".
    if (repo.findings.some((f) => f.severity === "error" && f.file === "strata.yaml")) {
      return { repo, resolved: { environment: options.environment, config: {}, leaves: new Map(), findings: [] }, findings: [...repo.findings].sort(compareFindings) };
    }
    throw unknownEnvironment(repo, options.environment);
  }
  const resolved = await resolveEnvironment(repo, options.environment);
  return { repo, resolved, findings: [...repo.findings, ...resolved.findings].sort(compareFindings) };
}
