/**
 * What a snapshot of one environment carries (docs/distribution.md), built from the repository: the non-sensitive
 * effective config, the sensitive leaves encrypted to the environment's runtime recipients, the
 * encrypted files that fed it, and where it came from.
 */
import { createHash } from "node:crypto";
import { createFinding, type Finding } from "../core/findings.js";
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
  /** The repository's files (default: its working tree) and strata.yaml as already read (default: read here). */
  files?: RepoFiles;
  settings?: RepositorySettings;
  env?: NodeJS.ProcessEnv;
}): Promise<SnapshotContent> {
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

  const config = structuredClone(resolved.config);
  const sensitive: JsonObject = {};
  let anySensitive = false;
  for (const leaf of resolved.leaves.values()) {
    if (!leaf.sensitive) continue;
    anySensitive = true;
    const path = splitKey(leaf.path);
    removeAt(config as unknown as JsonObject, path);
    setAt(sensitive, path, leaf.value);
  }

  let secrets: JsonObject | null = null;
  if (anySensitive) {
    const recipients = repo.settings ? runtimeRecipients(repo.settings, info) : [];
    if (recipients.length === 0) {
      findings.push(
        createFinding({
          code: "missing-required",
          message: `strata.yaml: ${options.environment} has sensitive values but no runtime.recipients to encrypt them to`,
          file: "strata.yaml",
          line: 1,
          column: 1,
          environment: options.environment,
          hint: `add runtime.recipients.${options.environment} (the age recipients of the services that read it) to strata.yaml`,
        }),
      );
    } else if (!findings.some((f) => f.severity === "error")) {
      // Encrypted in canonical key order, the order the snapshot is served in, so the SOPS MAC verifies there.
      secrets = JSON.parse(
        await encryptDocument(createSnapshotSecretsTree(sensitive), { format: "json", age: recipients, env }),
      ) as JsonObject;
    }
  }

  const chain = new Set(info.chain);
  const secretSources: [string, string][] = [];
  for (const path of repo.encryptedFiles) {
    const envName = path.split("/")[1];
    if (!envName || !chain.has(envName)) continue;
    const bytes = await files.read(path);
    if (bytes) secretSources.push([path, createHash("sha256").update(bytes).digest("hex")]);
  }
  secretSources.sort((a, b) => a[0].localeCompare(b[0]));

  const git = await readGitSource(root, env);
  return { config, secrets, secretSources, source: { repository: git.repository, commit: git.commit }, findings };
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
