/** `strata validate`: parse, resolve and validate every concrete environment (or those named). */
import { compareFindings, createFinding, mergeFindings, type Finding } from "../core/findings.js";
import { variableCollisionWarnings } from "../core/render/variables.js";
import { SETTINGS_FILE } from "../core/settings/settings.js";
import type { EnvironmentInfo } from "../core/model.js";
import type { RepoFiles, SecretsOpener } from "../core/source.js";
import { loadRepository, unknownEnvironment } from "./repository.js";

export interface ValidateOptions {
  files: RepoFiles;
  environments?: string[];
  /** null: skip secrets (structure only, `secrets-skipped`). */
  secrets: SecretsOpener | null | undefined;
  /**
   * Called before each environment is resolved (for a progress display). When given, validation also
   * yields to the event loop between environments so that a spinner can redraw.
   */
  onProgress?: (done: number, total: number, environment: string) => void;
}

export interface ValidateResult {
  ok: boolean;
  environments: string[];
  findings: Finding[];
}

export async function validateRepository(options: ValidateOptions): Promise<ValidateResult> {
  const wanted = options.environments?.length ? new Set(options.environments) : undefined;
  const repo = await loadRepository(options.files, { secrets: options.secrets, environments: wanted });
  const findings = [...repo.findings];
  // A strata.yaml with errors explains itself: an environment it fails to declare is not "unknown".
  const settingsBroken = findings.some((f) => f.file === SETTINGS_FILE && f.severity === "error");
  let targets: string[];
  if (wanted) {
    for (const name of wanted) {
      const env = repo.environments.get(name);
      if (!env && !settingsBroken) throw unknownEnvironment(repo, name);
    }
    targets = [...wanted].filter((name) => repo.environments.has(name));
  } else {
    targets = [...repo.environments.values()]
      .filter((e) => !e.abstract)
      .map((e) => e.name)
      .sort();
    // With a broken graph (a cycle, an unknown parent) descendants are unknown: no guess about them.
    if (!settingsBroken) findings.push(...abstractWithoutDescendants(repo.environments));
  }
  for (const [i, name] of targets.entries()) {
    if (options.onProgress) {
      options.onProgress(i, targets.length, name);
      await new Promise((resolve) => setImmediate(resolve));
    }
    // Most environments of a repository have nothing to report: their config is checked without provenance,
    // and only an environment with something to report (or that the clean path cannot decide) is resolved in
    // full, which finds and locates everything exactly as before.
    const clean = repo.resolver.cleanConfig(name);
    if (clean && variableCollisionWarnings({ environment: name, config: clean, leaves: new Map() }).length === 0)
      continue;
    const resolved = repo.resolver.resolve(name);
    findings.push(...resolved.findings, ...variableCollisionWarnings(resolved));
  }
  const unique = mergeFindings(findings).sort(compareFindings);
  return { ok: !unique.some((f) => f.severity === "error"), environments: targets, findings: unique };
}

/** Abstract environments no concrete one inherits: their values are never validated. */
function abstractWithoutDescendants(environments: ReadonlyMap<string, EnvironmentInfo>): Finding[] {
  const inherited = new Set<string>();
  for (const e of environments.values()) if (!e.abstract) for (const c of e.chain) inherited.add(c);
  return [...environments.values()]
    .filter((a) => a.abstract && !inherited.has(a.name))
    .map((a) =>
      createFinding({
        code: "unset-nothing",
        severity: "warning",
        message: `abstract environment ${a.name} has no concrete descendant; its values are never validated`,
        environment: a.name,
      }),
    );
}
