/** `strata validate`: parse, resolve and validate every concrete environment (or those named). */
import { compareFindings, createFinding, type Finding } from "../core/findings.js";
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
  let targets: string[];
  if (wanted) {
    for (const name of wanted) {
      const env = repo.environments.get(name);
      if (!env) throw unknownEnvironment(repo, name);
    }
    targets = [...wanted];
  } else {
    targets = [...repo.environments.values()].filter((e) => !e.abstract).map((e) => e.name).sort();
    const abstract = [...repo.environments.values()].filter((e) => e.abstract);
    for (const a of abstract) {
      if (![...repo.environments.values()].some((e) => e.chain.includes(a.name) && !e.abstract)) {
        findings.push(createFinding({ code: "unset-nothing", severity: "warning", message: `abstract environment ${a.name} has no concrete descendant; its values are never validated`, environment: a.name }));
      }
    }
  }
  for (const [i, name] of targets.entries()) {
    if (options.onProgress) {
      options.onProgress(i, targets.length, name);
      await new Promise((resolve) => setImmediate(resolve));
    }
    findings.push(...repo.resolver.resolve(name).findings);
  }
  const unique = dedupe(findings).sort(compareFindings);
  return { ok: !unique.some((f) => f.severity === "error"), environments: targets, findings: unique };
}

function dedupe(findings: Finding[]): Finding[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    // The same problem in a shared ancestor surfaces once, whichever environment found it.
    const id = `${f.code}|${f.file}|${f.line}|${f.column}|${f.key}|${f.message}`;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}
