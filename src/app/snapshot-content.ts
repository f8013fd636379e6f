/**
 * What a snapshot of one environment carries (docs/distribution.md), built from the repository: the non-sensitive
 * effective config, the sensitive leaves encrypted to the environment's runtime recipients, the
 * encrypted files that fed it, and where it came from.
 */
import { createHash } from "node:crypto";
import { createFinding, StrataError, type Finding } from "../core/findings.js";
import { classifyPath } from "../core/layout.js";
import type { EnvironmentInfo } from "../core/model.js";
import { serviceOf, serviceRecipients, servicesOf, type Services } from "../core/services/services.js";
import { suggestClosest } from "../core/suggest.js";
import type { JsonObject, JsonValue } from "../core/json.js";
import { splitKey } from "../core/names.js";
import { runtimeRecipients } from "../core/settings/settings.js";
import { createSnapshotSecretsTree } from "../core/snapshot/secrets.js";
import type { SnapshotContent } from "./distribution/content.js";
import { readGitSource } from "../io/repo/git-head.js";
import { createWorktreeFiles, findRepositoryRoot } from "../io/repo/worktree.js";
import type { RepoFiles } from "../core/source.js";
import { loadRepository, unknownEnvironment, type RepositorySettings } from "./repository.js";
import { createSecretsOpener } from "./secrets/opener.js";
import { encryptDocument } from "./secrets/encrypt-document.js";

export async function buildSnapshotContent(options: {
  repoDir: string;
  environment: string;
  /** A service's snapshot (strata.yaml `services:`): only its namespaces, secrets to its recipients. */
  service?: string | null;
  /** The repository's files (default: its working tree) and strata.yaml as already read (default: read here). */
  files?: RepoFiles;
  settings?: RepositorySettings;
  env?: NodeJS.ProcessEnv;
}): Promise<SnapshotContent> {
  const service = options.service ?? null;
  const contents = await buildSnapshotContents({ ...options, services: service === null ? [null] : [service] });
  return contents.get(service)!;
}

/**
 * The content of an environment's snapshot (key null) and of each service's snapshot asked for, from one
 * resolution of the environment: a service's slice holds its namespaces' values, the sensitive leaves of
 * those namespaces encrypted to its recipients plus the break-glass `runtime.recipients`, and the encrypted
 * files of its namespaces.
 */
export async function buildSnapshotContents(options: {
  repoDir: string;
  environment: string;
  /** `"all"`: the environment's and every service's it runs (strata push). */
  services: readonly (string | null)[] | "all";
  files?: RepoFiles;
  settings?: RepositorySettings;
  env?: NodeJS.ProcessEnv;
}): Promise<Map<string | null, SnapshotContent>> {
  const env = options.env ?? process.env;
  const root = findRepositoryRoot(options.repoDir);
  const files = options.files ?? createWorktreeFiles(root);
  const repo = await loadRepository(files, {
    secrets: createSecretsOpener({ env }),
    environments: new Set([options.environment]),
    ...(options.settings ? { settings: options.settings } : {}),
  });
  const info = repo.environments.get(options.environment);
  if (!info) throw unknownEnvironment(repo, options.environment);
  const resolved = repo.resolver.resolve(options.environment);
  const findings: Finding[] = [...repo.findings, ...resolved.findings];
  if (info.abstract) {
    findings.push(
      createFinding({
        code: "invalid-argument",
        message: `${options.environment} is abstract: a layer only, never a push target`,
        environment: options.environment,
      }),
    );
  }
  const breakGlass = repo.settings ? runtimeRecipients(repo.settings, info) : [];
  const chain = new Set(info.chain);
  const sources: [string, string, string][] = [];
  for (const path of repo.encryptedFiles) {
    const envName = path.split("/")[1];
    if (!envName || !chain.has(envName)) continue;
    const bytes = await files.read(path);
    const c = classifyPath(path);
    if (bytes && c !== null && !("code" in c) && c.kind === "values")
      sources.push([path, createHash("sha256").update(bytes).digest("hex"), c.namespace]);
  }
  sources.sort((a, b) => a[0].localeCompare(b[0]));
  const git = await readGitSource(root, env);

  const runs = servicesOf(repo.services, info).map((s) => s.name);
  const wanted = options.services === "all" ? [null, ...runs] : options.services;
  const contents = new Map<string | null, SnapshotContent>();
  for (const name of wanted) {
    const declared = name === null ? null : serviceOf(repo.services, info, name);
    if (name !== null && declared === null) throw unknownService(repo.services, info, name);
    const namespaces = declared === null ? null : new Set(declared.namespaces);
    const inSlice = (ns: string): boolean => namespaces === null || namespaces.has(ns);
    const own = [...findings];
    const config: Record<string, JsonObject> = {};
    for (const [ns, values] of Object.entries(resolved.config)) if (inSlice(ns)) config[ns] = structuredClone(values);
    const sensitive: JsonObject = {};
    let anySensitive = false;
    for (const leaf of resolved.leaves.values()) {
      if (!leaf.sensitive) continue;
      const path = splitKey(leaf.path);
      if (!inSlice(String(path[0]))) continue;
      anySensitive = true;
      removeAt(config as unknown as JsonObject, path);
      setAt(sensitive, path, leaf.value);
    }
    let secrets: JsonObject | null = null;
    let encryptedTo: string[] = [];
    if (anySensitive) {
      const recipients = declared === null ? breakGlass : serviceRecipients(declared, info, breakGlass);
      if (recipients.length === 0) own.push(missingRecipients(options.environment, name));
      else if (!own.some((f) => f.severity === "error")) {
        // Encrypted in canonical key order, the order the snapshot is served in, so the SOPS MAC verifies there.
        secrets = JSON.parse(
          await encryptDocument(createSnapshotSecretsTree(sensitive), { format: "json", age: recipients, env }),
        ) as JsonObject;
        encryptedTo = recipients;
      }
    }
    contents.set(name, {
      config,
      secrets,
      recipients: encryptedTo,
      secretSources: sources.filter(([, , ns]) => inSlice(ns)).map(([p, h]) => [p, h]),
      source: { repository: git.repository, commit: git.commit },
      findings: own,
      ...(name === null ? { services: runs } : {}),
    });
  }
  return contents;
}

function missingRecipients(environment: string, service: string | null): Finding {
  return createFinding({
    code: "missing-required",
    message:
      service === null
        ? `strata.yaml: ${environment} has sensitive values but no runtime.recipients to encrypt them to`
        : `strata.yaml: service ${service} reads sensitive values of ${environment} but has no recipients to encrypt them to`,
    file: "strata.yaml",
    line: 1,
    column: 1,
    environment,
    hint:
      service === null
        ? `add runtime.recipients.${environment} (the age recipients of the services that read it) to strata.yaml`
        : `add services.${service}.recipients (the age recipients of its runtime identities) to strata.yaml`,
  });
}

function unknownService(services: Services, environment: EnvironmentInfo, name: string): StrataError {
  const known = servicesOf(services, environment).map((s) => s.name);
  const near = suggestClosest(name, known);
  return new StrataError("invalid-argument", `${environment.name} runs no service "${name}"`, {
    hint:
      known.length === 0
        ? `strata.yaml declares no service that ${environment.name} runs (services:)`
        : `${near !== null ? `did you mean "${near}"? ` : ""}services of ${environment.name} in strata.yaml: ${known.join(", ")}`,
  });
}

function setAt(root: JsonObject, path: (string | number)[], value: JsonValue): void {
  let node: JsonObject = root;
  for (const seg of path.slice(0, -1)) {
    // Sensitive leaves under arrays keep the array's index as a key of an object: the SOPS document is a map.
    const key = String(seg);
    const next = node[key];
    if (next === undefined || next === null || typeof next !== "object" || Array.isArray(next)) node[key] = {};
    node = node[key] as JsonObject;
  }
  node[String(path[path.length - 1])] = value;
}

function removeAt(root: JsonObject, path: (string | number)[]): void {
  const parents: [JsonObject | JsonValue[], string | number][] = [];
  let node: JsonValue = root;
  for (const seg of path.slice(0, -1)) {
    if (node === null || typeof node !== "object") return;
    parents.push([node as JsonObject, seg]);
    node = (node as Record<string | number, JsonValue>)[seg as string] ?? null;
  }
  if (node === null || typeof node !== "object") return;
  const last = path[path.length - 1]!;
  if (Array.isArray(node) && typeof last === "number") node.splice(last, 1);
  else delete (node as JsonObject)[String(last)];
  // A map emptied by taking its secrets out goes too (it lives in `secrets` now), up to the namespace.
  for (let i = parents.length - 1; i >= 1; i--) {
    const [parent, key] = parents[i]!;
    const child = (parent as Record<string | number, JsonValue>)[key as string];
    if (child && typeof child === "object" && !Array.isArray(child) && Object.keys(child).length === 0)
      delete (parent as JsonObject)[String(key)];
    else break;
  }
}
