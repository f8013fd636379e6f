/** `strata resolve` and `strata explain`: one environment's effective config and its provenance. */
import { compareFindings, type Finding } from "../core/findings.js";
import { toVariables } from "../core/render/formats.js";
import { environmentProblem, unrepresentableFinding } from "../core/render/handoff.js";
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
  const repo = await loadRepository(options.files, {
    secrets: options.secrets,
    environments: new Set([options.environment]),
  });
  if (!repo.environments.has(options.environment)) {
    // A broken strata.yaml explains the unknown name better than "unknown environment".
    if (repo.findings.some((f) => f.severity === "error" && f.file === "strata.yaml")) {
      return {
        repo,
        resolved: { environment: options.environment, config: {}, leaves: new Map(), findings: [] },
        findings: [...repo.findings].sort(compareFindings),
      };
    }
    throw unknownEnvironment(repo, options.environment);
  }
  const resolved = await resolveEnvironment(repo, options.environment);
  return { repo, resolved, findings: [...repo.findings, ...resolved.findings].sort(compareFindings) };
}

export interface ExecEnvironmentOptions extends ResolveOptions {
  /** Put sensitive values in the environment (`--show-secrets`); otherwise they are left out. */
  includeSecrets: boolean;
}

export interface ExecEnvironment {
  /** Variable name -> value, named as in the env format. */
  variables: Record<string, string>;
  /** Paths of the sensitive leaves left out. */
  omitted: string[];
  /** Sensitive values put in the environment, for masks. */
  secretValues: string[];
  /** Resolution findings, name collisions and values no environment can hold; errors mean: do not run. */
  findings: Finding[];
}

/** The effective config of an environment as process environment variables (`strata exec`). */
export async function resolveExecEnvironment(options: ExecEnvironmentOptions): Promise<ExecEnvironment> {
  const { resolved, findings } = await resolveConfig(options);
  const out: ExecEnvironment = { variables: {}, omitted: [], secretValues: [], findings: [...findings] };
  if (findings.some((f) => f.severity === "error")) return out;
  const { variables, findings: collisions } = toVariables(resolved.leaves.values());
  out.findings.push(...collisions);
  for (const v of variables) {
    if (v.leaf.sensitive && !options.includeSecrets) {
      out.omitted.push(v.leaf.path);
      continue;
    }
    const why = environmentProblem(v.text);
    if (why) {
      out.findings.push(unrepresentableFinding(v, why, "an environment variable", "change the value"));
      continue;
    }
    out.variables[v.name] = v.text;
    if (v.leaf.sensitive) out.secretValues.push(v.text);
  }
  return out;
}
