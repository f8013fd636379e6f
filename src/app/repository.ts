/**
 * Loading a configuration repository from any RepoFiles (working tree or a commit) and resolving its
 * environments. Everything that can go wrong in the content comes back as findings.
 */
import { createFinding, findingAt, StrataError, type Finding } from "../core/findings.js";
import { isJsonObject, type JsonObject } from "../core/json.js";
import { parseJsonPointer } from "../core/json-pointer.js";
import { splitKey } from "../core/names.js";
import type { EnvironmentInfo, KeyMetadata, ResolvedEnvironment } from "../core/model.js";
import { classifyPath } from "../core/layout.js";
import { checkSopsMetadata, overlayPlaintext, stripSopsMetadata } from "../core/resolve/layers.js";
import { Resolver, type EnvironmentLayers, type Layer, type NamespaceSchema } from "../core/resolve/resolve.js";
import { SchemaCompiler, type ErrorObject } from "../core/schema/compile.js";
import { suggestClosest } from "../core/suggest.js";
import { collectDefaults, DEFAULTS_EXPANSION_LIMIT } from "../core/schema/navigate.js";
import { checkServiceNamespaces, type Services } from "../core/services/services.js";
import { parseSettings, SETTINGS_FILE, type Settings } from "../core/settings/settings.js";
import type { RepoFiles, SecretsOpener } from "../core/source.js";
import { locate } from "../core/yaml/locate.js";
import { toPlain, type LNode } from "../core/yaml/nodes.js";
import { decodeText, parseGeneral, parseYaml, type ParsedYaml } from "../core/yaml/parse.js";
import { createHash } from "node:crypto";
import { deserializeParsed, serializeParsed } from "../core/yaml/serialize.js";
import {
  cacheDisabled,
  createParseCache,
  createValidatorCache,
  shippedValidators,
  type TextCache,
} from "../io/cache/validators.js";

export interface LoadOptions {
  /** Opens `.sops.yaml` files; `null`: do not decrypt (values stay ciphertext, `secrets-skipped`). */
  secrets?: SecretsOpener | null;
  /** Load and resolve only these namespaces (incremental diff). */
  namespaces?: ReadonlySet<string>;
  /** Load only the layers these environments need (their chains). */
  environments?: ReadonlySet<string>;
  /** One compiler per process; pass one in to share compiled schemas between loads. */
  compiler?: SchemaCompiler;
  /**
   * false: check schemas against the meta-schema only, without compiling validators (nearly all of the
   * load's cost); for readers of the schemas themselves (typegen) that never resolve values.
   */
  compile?: boolean;
  /**
   * strata.yaml as the caller already read it (`readSettings` over the same files): a command that loads the
   * repository several times (push, once per environment) parses it once.
   */
  settings?: RepositorySettings;
}

/** strata.yaml as `readSettings` reads it: the settings, the environment graph and their findings. */
export type RepositorySettings = Awaited<ReturnType<typeof readSettings>>;

export interface Repository {
  files: RepoFiles;
  settings: Settings;
  environments: Map<string, EnvironmentInfo>;
  /** The services strata.yaml declares (empty: none, every environment has one snapshot). */
  services: Services;
  /** Namespaces with a schema, sorted. */
  namespaces: string[];
  schemas: Map<string, NamespaceSchema>;
  /** Problems in strata.yaml, schemas and values files themselves. */
  findings: Finding[];
  /** Encrypted files that fed resolution, for snapshots' `secretSources`. */
  encryptedFiles: string[];
  resolver: Resolver;
}

let sharedCompiler: SchemaCompiler | undefined;
/** One compiler per process, with the validator cache unless STRATA_NO_CACHE=1, and the build's own validators. */
export function defaultCompiler(): SchemaCompiler {
  return (sharedCompiler ??= new SchemaCompiler({
    cache: cacheDisabled() ? null : createValidatorCache(),
    shipped: shippedValidators(),
  }));
}

/** strata.yaml alone: settings, the environment graph and their findings (for `envs`, `serve`). */
export async function readSettings(
  files: RepoFiles,
  compiler: SchemaCompiler = defaultCompiler(),
): Promise<ReturnType<typeof parseSettings> & { parseFindings: Finding[] }> {
  const settingsBytes = await files.read(SETTINGS_FILE);
  if (settingsBytes === null) {
    throw new StrataError("missing-repository", `not a strata repository: ${files.label} has no ${SETTINGS_FILE}`, {
      hint: "run `strata init` to create one, or pass --repo DIR",
    });
  }
  const parseFindings: Finding[] = [];
  const settingsNode = parseFile(settingsBytes, SETTINGS_FILE, { keys: "any", allowUnset: false }, parseFindings);
  // Text that does not parse is reported as such, not also as an empty file.
  if (settingsNode === null && parseFindings.some((f) => f.severity === "error"))
    return { settings: null, environments: new Map(), findings: [], parseFindings };
  return { ...parseSettings(settingsNode, compiler), parseFindings };
}

export async function loadRepository(files: RepoFiles, options: LoadOptions = {}): Promise<Repository> {
  const compiler = options.compiler ?? defaultCompiler();
  const findings: Finding[] = [];

  const parsedSettings = options.settings ?? (await readSettings(files, compiler));
  findings.push(...parsedSettings.parseFindings, ...parsedSettings.findings);
  const environments = parsedSettings.environments;
  const settings = parsedSettings.settings ?? ({ version: 1, environments: {} } as Settings);

  const paths = await files.list(["schemas", "environments"]);
  const schemaFiles = new Map<string, string>();
  const valueFiles: { environment: string; namespace: string; path: string; encrypted: boolean }[] = [];
  for (const path of paths) {
    const c = classifyPath(path);
    if (c === null) continue;
    if ("code" in c) {
      findings.push(c);
      continue;
    }
    if (c.kind === "schema") {
      const other = schemaFiles.get(c.namespace);
      if (other)
        findings.push(
          findingAt(
            "invalid-schema",
            { file: path, line: 1, column: 1 },
            `namespace ${c.namespace} has two schemas (${other} too)`,
            { hint: "keep one of .schema.yaml and .schema.json" },
          ),
        );
      else schemaFiles.set(c.namespace, path);
    } else if (c.kind === "values") valueFiles.push(c);
  }

  // A service's namespaces must exist: every namespace with a schema file, whatever this load reads.
  if (parsedSettings.services && parsedSettings.services.size > 0)
    findings.push(...checkServiceNamespaces(parsedSettings.services, parsedSettings.root, new Set(schemaFiles.keys())));

  // Which environments' layers are needed: the chains of those asked for.
  let neededEnvs: Set<string> | null = null;
  if (options.environments) {
    neededEnvs = new Set();
    for (const e of options.environments) for (const c of environments.get(e)?.chain ?? [e]) neededEnvs.add(c);
  }
  const wantNs = (ns: string): boolean => !options.namespaces || options.namespaces.has(ns);

  const schemas = new Map<string, NamespaceSchema>();
  // What exists but could not be read: reported once here, and nothing that depends on it is reported again.
  const unreadable = { layers: new Map<string, Set<string>>(), schemas: new Set<string>() };
  await Promise.all(
    [...schemaFiles]
      .filter(([ns]) => wantNs(ns))
      .map(async ([ns, path]) => {
        const bytes = await files.read(path);
        if (bytes === null) return;
        const node = parseFile(bytes, path, { keys: "any", allowUnset: false, cache: true }, findings);
        const s = node && loadSchema(ns, path, node, compiler, findings, options.compile ?? true);
        if (s) schemas.set(ns, s);
        else unreadable.schemas.add(ns);
      }),
  );

  const layers = new Map<string, Map<string, EnvironmentLayers>>();
  const encryptedFiles: string[] = [];
  const skipped: string[] = [];
  await Promise.all(
    valueFiles.map(async (vf) => {
      if (!environments.has(vf.environment)) {
        // Declared but without a chain (a cycle, an unknown parent, too deep): strata.yaml's finding says why.
        if (parsedSettings.settings && !Object.hasOwn(parsedSettings.settings.environments, vf.environment)) {
          findings.push(
            findingAt(
              "unknown-environment",
              { file: vf.path, line: 1, column: 1 },
              `environment "${vf.environment}" is not declared in ${SETTINGS_FILE}`,
              { environment: vf.environment, hint: `add it under environments: in ${SETTINGS_FILE}, or move the file` },
            ),
          );
        }
        return;
      }
      if (neededEnvs && !neededEnvs.has(vf.environment)) return;
      if (!wantNs(vf.namespace)) return;
      if (!schemaFiles.has(vf.namespace)) {
        findings.push(
          findingAt(
            "unknown-namespace",
            { file: vf.path, line: 1, column: 1 },
            `namespace "${vf.namespace}" has no schema (schemas/${vf.namespace}.schema.yaml)`,
            { environment: vf.environment, hint: "add the schema, or fix the file name" },
          ),
        );
        return;
      }
      const bytes = await files.read(vf.path);
      if (bytes === null) return;
      const own: Finding[] = [];
      const layer = await loadLayer(vf, bytes, options.secrets, own, skipped);
      findings.push(...own);
      if (!layer) {
        // An empty file sets nothing; one that says why it could not be read may have set anything.
        if (own.some((f) => f.severity === "error")) {
          let byEnv = unreadable.layers.get(vf.environment);
          if (!byEnv) unreadable.layers.set(vf.environment, (byEnv = new Set()));
          byEnv.add(vf.namespace);
        }
        return;
      }
      if (vf.encrypted) encryptedFiles.push(vf.path);
      let byNs = layers.get(vf.environment);
      if (!byNs) layers.set(vf.environment, (byNs = new Map()));
      const entry = byNs.get(vf.namespace) ?? {};
      if (vf.encrypted) entry.secret = layer;
      else entry.plain = layer;
      byNs.set(vf.namespace, entry);
    }),
  );
  if (skipped.length > 0) {
    skipped.sort();
    findings.push(
      createFinding({
        code: "secrets-skipped",
        message: `secrets not decrypted (${skipped.length} encrypted file${skipped.length === 1 ? "" : "s"}: ${skipped.join(", ")}); their values were checked for structure only`,
        hint: "run with a SOPS key (SOPS_AGE_KEY_FILE, SOPS_AGE_KEY, gpg) to check them fully",
      }),
    );
  }

  const resolver = new Resolver({ environments, schemas, layers, unreadable });
  return {
    files,
    settings,
    environments,
    services: parsedSettings.services ?? new Map(),
    schemas,
    resolver,
    namespaces: [...schemas.keys()].sort(),
    findings,
    encryptedFiles: encryptedFiles.sort(),
  };
}

let parseCache: TextCache | null | undefined;
const PARSE_VERSION = "strata-parse-3";

/**
 * Parses with positions. Plain files outside the YAML block subset go through the parse cache (keyed by path,
 * options and bytes); the block subset reads faster than a cache entry is found and unpacked.
 */
function parseFile(
  bytes: Uint8Array,
  path: string,
  opts: { keys: "any" | "segments"; allowUnset: boolean; cache?: boolean },
  findings: Finding[],
): LNode | null {
  const decoded = decodeText(bytes, path);
  if ("finding" in decoded) {
    findings.push(decoded.finding);
    return null;
  }
  const cache = opts.cache ? (parseCache === undefined ? (parseCache = createParseCache()) : parseCache) : null;
  const cachedGeneral = (text: string): ParsedYaml => {
    if (!cache) return parseGeneral(text, path, opts);
    const key = createHash("sha256")
      .update(`${PARSE_VERSION}\0${path}\0${opts.keys}\0${opts.allowUnset}\0`)
      .update(bytes)
      .digest("hex");
    const hit = cache.get(key);
    const unpacked = hit === null ? null : deserializeParsed(hit, path);
    if (unpacked) return unpacked;
    const parsed = parseGeneral(text, path, opts);
    cache.set(key, serializeParsed(parsed));
    return parsed;
  };
  const parsed = parseYaml(decoded.text, path, opts, cachedGeneral);
  findings.push(...parsed.findings);
  if (
    parsed.findings.some(
      (f) =>
        f.severity === "error" && (f.code === "yaml-syntax" || f.code === "yaml-limit" || f.code === "duplicate-key"),
    )
  )
    return null;
  return parsed.documents[0] ?? null;
}

function loadSchema(
  ns: string,
  path: string,
  node: LNode,
  compiler: SchemaCompiler,
  findings: Finding[],
  compile: boolean,
): NamespaceSchema | null {
  const schema = toPlain(node);
  const at = (segs: (string | number)[]): { line: number; column: number } => locate(node, segs).pos;
  if (!isJsonObject(schema)) {
    findings.push(findingAt("invalid-schema", { file: path, line: 1, column: 1 }, "a schema must be an object"));
    return null;
  }
  // Defaults are read whether or not the schema compiles: an invalid schema still gets its other findings.
  const loaded = (validator: NamespaceSchema["validator"]): NamespaceSchema => ({
    name: ns,
    file: path,
    schema,
    node,
    validator,
    defaults: loadDefaults(ns, path, node, schema, findings),
  });
  const metaErrors = compiler.validateSchema(schema);
  if (metaErrors.length > 0) {
    for (const err of oneErrorPerPlace(metaErrors).slice(0, 20)) {
      const segs = parseJsonPointer(err.instancePath);
      const p = at(segs);
      const allowed = err.keyword === "enum" ? (err.params as { allowedValues?: unknown[] }).allowedValues : undefined;
      const value = segs.reduce<unknown>(
        (v, s) => (v !== null && typeof v === "object" ? (v as Record<string, unknown>)[s] : undefined),
        schema,
      );
      const near =
        allowed && typeof value === "string"
          ? suggestClosest(
              value,
              allowed.filter((a): a is string => typeof a === "string"),
            )
          : null;
      findings.push(
        findingAt(
          "invalid-schema",
          { file: path, line: p.line, column: p.column },
          `${segs.join(".") || "(root)"} ${allowed ? `must be one of ${allowed.map((a) => JSON.stringify(a)).join(", ")}` : (err.message ?? "is invalid")}`,
          { key: ns, hint: near === null ? null : `did you mean ${JSON.stringify(near)}?` },
        ),
      );
    }
    return loaded(null);
  }
  if (!compile) return loaded(null);
  try {
    return loaded(compiler.compile(schema));
  } catch (e) {
    const message = (e as Error).message;
    // strict mode names the offending keyword; point at its first use.
    const keyword = /keyword[: ]+"?([^"\s]+)"?/.exec(message)?.[1] ?? /"([^"]+)"/.exec(message)?.[1];
    const pos = keyword ? (findKey(node, keyword) ?? node.pos) : node.pos;
    findings.push(
      findingAt("invalid-schema", { file: path, line: pos.line, column: pos.column }, `${message}`, {
        key: ns,
        hint: message.includes("strict mode")
          ? "strict mode rejects unknown keywords; strata's own are x-sensitive, x-merge, x-approvers, x-restart-required, x-deprecated, x-owner"
          : null,
      }),
    );
    return loaded(null);
  }
}

/**
 * One meta-schema error per place in the schema: a keyword the meta-schema allows in several forms
 * (`type: strin` fails the enum of type names, the list form and the anyOf over both) is one mistake. The
 * enum's error is the one that says what is allowed; otherwise the first that is not a summary.
 */
function oneErrorPerPlace(errors: readonly ErrorObject[]): ErrorObject[] {
  const byPlace = new Map<string, ErrorObject[]>();
  for (const e of errors) byPlace.set(e.instancePath, [...(byPlace.get(e.instancePath) ?? []), e]);
  return [...byPlace.values()].map(
    (group) =>
      group.find((e) => e.keyword === "enum") ??
      group.find((e) => e.keyword !== "anyOf" && e.keyword !== "oneOf") ??
      group[0]!,
  );
}

/** The schema's defaults; a schema whose `$ref`s expand past the limit gets a finding at the `$ref` where it stopped. */
function loadDefaults(
  ns: string,
  path: string,
  node: LNode,
  schema: JsonObject,
  findings: Finding[],
): NamespaceSchema["defaults"] {
  const { defaults, overflow } = collectDefaults(schema);
  if (overflow !== null) {
    const at = locate(node, overflow).pos;
    findings.push(
      findingAt(
        "invalid-schema",
        at,
        `the schema's defaults expand past ${DEFAULTS_EXPANSION_LIMIT.toLocaleString("en-US")} subschemas ($ref fan-out at ${overflow.join("/") || "(root)"})`,
        {
          key: ns,
          hint: "each $ref level that refers to the next more than once doubles the described value; share the default-carrying parts or drop defaults below the fan-out",
        },
      ),
    );
    // A truncated default layer would be wrong and still huge: the namespace resolves without defaults.
    return [];
  }
  return defaults;
}

function findKey(node: LNode, key: string): { line: number; column: number } | null {
  if (node.kind === "map") {
    for (const [k, e] of node.entries) {
      if (k === key) return e.keyPos;
      const inner = findKey(e.value, key);
      if (inner) return inner;
    }
  } else if (node.kind === "seq") {
    for (const item of node.items) {
      const inner = findKey(item, key);
      if (inner) return inner;
    }
  }
  return null;
}

async function loadLayer(
  vf: { environment: string; namespace: string; path: string; encrypted: boolean },
  bytes: Uint8Array,
  secrets: SecretsOpener | null | undefined,
  findings: Finding[],
  skipped: string[],
): Promise<Layer | null> {
  const base = { environment: vf.environment, namespace: vf.namespace, file: vf.path, encrypted: vf.encrypted };
  if (!vf.encrypted) {
    const node = parseFile(bytes, vf.path, { keys: "segments", allowUnset: true, cache: true }, findings);
    if (!node) return null;
    return { ...base, node, ciphertextOnly: false };
  }
  const node = parseFile(bytes, vf.path, { keys: "segments", allowUnset: false }, findings);
  if (!node) return null;
  const stripped = stripSopsMetadata(node);
  if (!stripped || !stripped.metadata) {
    // Content, not a missing key: exit 1 whether or not secrets are skipped.
    findings.push(
      findingAt("invalid-sops-file", { file: vf.path, line: 1, column: 1 }, `not a SOPS file (no sops metadata)`, {
        environment: vf.environment,
        hint: `encrypt it: strata secrets encrypt --in-place ${vf.path}`,
      }),
    );
    return null;
  }
  // Without a key only presence can be checked: a file with no MAC is a finding then (with a key, the
  // opener verifies the MAC itself).
  const metadataFindings = checkSopsMetadata(stripped.metadata, vf.path, vf.environment, secrets === null);
  findings.push(...metadataFindings);
  if (metadataFindings.some((f) => f.severity === "error")) return null;
  if (secrets === null) {
    skipped.push(vf.path);
    return { ...base, node: stripped.data, ciphertextOnly: true };
  }
  if (secrets === undefined) {
    findings.push(
      findingAt("decryption-failed", { file: vf.path, line: 1, column: 1 }, `no SOPS engine is available to open it`, {
        environment: vf.environment,
        hint: "use --skip-secrets to check everything else",
      }),
    );
    return null;
  }
  let plain: unknown;
  try {
    plain = await secrets.open(vf.path, bytes);
  } catch (e) {
    if (e instanceof StrataError) {
      const reason = e.message.startsWith(`${vf.path}: `) ? e.message.slice(vf.path.length + 2) : e.message;
      findings.push(
        findingAt(e.code, { file: vf.path, line: 1, column: 1 }, `${reason}`, {
          environment: vf.environment,
          hint: e.hint,
        }),
      );
      return null;
    }
    throw e;
  }
  if (Array.isArray(plain)) {
    findings.push(
      findingAt(
        "yaml-syntax",
        { file: vf.path, line: 1, column: 1 },
        `more than one YAML document; a values file holds one`,
        { environment: vf.environment },
      ),
    );
    return null;
  }
  const overlaid = overlayPlaintext(stripped.data, plain);
  if (!overlaid) {
    findings.push(
      findingAt(
        "decryption-failed",
        { file: vf.path, line: 1, column: 1 },
        `the decrypted document does not match the file's structure`,
        { environment: vf.environment },
      ),
    );
    return null;
  }
  return { ...base, node: overlaid, ciphertextOnly: false };
}

/** Resolves one concrete environment (throws unknown-environment for names strata.yaml lacks). */
export async function resolveEnvironment(repo: Repository, environment: string): Promise<ResolvedEnvironment> {
  const env = repo.environments.get(environment);
  if (!env) throw unknownEnvironment(repo, environment);
  return repo.resolver.resolve(environment);
}

export function unknownEnvironment(repo: Repository, name: string): StrataError {
  const known = [...repo.environments.keys()].sort();
  const near = suggestClosest(name, known) ?? known.find((k) => k.startsWith(name) || name.startsWith(k));
  return new StrataError("unknown-environment", `unknown environment "${name}"`, {
    hint: `known: ${known.join(", ")}${near ? ` (did you mean ${near}?)` : ""}`,
  });
}

export function keyMetadata(repo: Repository, leafPath: string): KeyMetadata {
  const [ns, ...rest] = splitKey(leafPath);
  return repo.resolver.metadata(String(ns ?? ""), rest);
}
