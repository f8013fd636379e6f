/**
 * The option tables of the commands (src/cli/spec.ts): data only, so `parseCli`, the completion scripts and
 * the docs can read every command's options without loading what the command runs. A command module binds
 * its table to its action with `attachAction`.
 */
import { InvalidArgumentError } from "commander";
import { docsUrl } from "../core/docs.js";
import { StrataError } from "../core/findings.js";
import type { OutputFormat } from "../core/render/formats.js";
import type { Shell } from "./render/completion.js";
import { defineCommand, parseWithTable, type CommandDef, type OptionDef, type ParsedCli } from "./spec.js";

/** The options several commands share, declared once. */
const repo = {
  kind: "value",
  flags: "--repo <dir>",
  description: "the configuration repository (default: the current directory)",
} as const satisfies OptionDef;

const environments = (description: string) =>
  ({ kind: "list", flags: "-e, --env <names>", description }) as const satisfies OptionDef;

const environment = {
  kind: "value",
  flags: "-e, --env <name>",
  description: "the environment",
  required: true,
} as const satisfies OptionDef;

const endpoint = {
  kind: "value",
  flags: "--endpoint <url>",
  description: "the endpoint (default: STRATA_ENDPOINT, then distribution.endpoint)",
} as const satisfies OptionDef;

const signingKey = {
  kind: "value",
  flags: "--signing-key <file>",
  description: "PKCS#8 PEM ed25519 key file (default: STRATA_SIGNING_KEY, the key's PEM text)",
} as const satisfies OptionDef;

const textOrJson = {
  kind: "value",
  flags: "-o, --format <format>",
  description: "output format",
  choices: ["text", "json"],
  default: "text",
} as const satisfies OptionDef;

/** Text or JSON, left unset when not given (so that the command can tell "not given" from "text"). */
const textOrJsonUnset = { ...textOrJson, default: undefined, description: "output format (default: text)" } as const;

/** Report commands: text by default, github under GitHub Actions (the command decides when not given). */
const report = {
  kind: "value",
  flags: "-o, --format <format>",
  description: "output format (default: text, or github in GitHub Actions)",
  choices: ["text", "json", "github"],
} as const satisfies OptionDef;

/** The effective config's output formats (core/render/formats.ts), in its order; a test keeps them equal. */
export const RESOLVE_FORMATS = [
  "yaml",
  "json",
  "env",
  "dotenv",
  "configmap",
  "secret",
] as const satisfies readonly OutputFormat[];

/** The shells `strata completion` writes a script for. */
const SHELLS = ["bash", "zsh", "fish"] as const satisfies readonly Shell[];

/** `--pr 42` or `--pr '#42'`. */
function parsePullRequestNumber(value: string): number {
  const n = Number(value.replace(/^#/, ""));
  if (!Number.isInteger(n) || n <= 0) throw new InvalidArgumentError(`"${value}" is not a pull request number`);
  return n;
}

/** A published version: 1 or more. */
function parseVersionNumber(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < 1)
    throw new InvalidArgumentError(`"${value}" is not a version number`);
  return n;
}

/** `8388608`, `8M`, `512k`, `512KiB`. */
function parseBytes(value: string): number {
  const m = /^(\d+)([kKmM]i?[bB]?)?$/.exec(value.trim());
  if (!m)
    throw new StrataError("invalid-argument", `invalid size ${JSON.stringify(value)}`, {
      hint: "e.g. 8388608, 8M or 512k",
    });
  const unit = (m[2] ?? "").toLowerCase()[0];
  return Number(m[1]) * (unit === "m" ? 1024 * 1024 : unit === "k" ? 1024 : 1);
}

/** `--rollout-interval`: `500ms`, `5s`, `1m` (100 ms to 10 minutes). */
function parseInterval(value: string): number {
  const m = /^(\d+)(ms|s|m)$/.exec(value.trim());
  const ms = m === null ? NaN : Number(m[1]) * (m[2] === "ms" ? 1 : m[2] === "s" ? 1000 : 60_000);
  if (!(ms >= 100 && ms <= 600_000))
    throw new StrataError("invalid-argument", `invalid interval ${JSON.stringify(value)}`, {
      hint: "from 100ms to 10m, e.g. 5s or 500ms",
    });
  return ms;
}

/** A positive whole number. */
function parseCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1)
    throw new StrataError("invalid-argument", `expected a positive count, not ${JSON.stringify(value)}`);
  return n;
}

const skipSecretsLeftOut = (description: string) =>
  ({ kind: "flag", flags: "--skip-secrets", description }) as const satisfies OptionDef;

const ignoreMac = (description: string) =>
  ({ kind: "flag", flags: "--ignore-mac", description }) as const satisfies OptionDef;

/** The file formats SOPS knows (secrets subcommands). */
const inputType = {
  kind: "value",
  flags: "--input-type <format>",
  description: "yaml, json, dotenv, ini or binary (default: from the extension)",
} as const satisfies OptionDef;

const secretsFile = { name: "<file>", description: "the SOPS file" } as const;
const secretsFileOrStdin = { name: "<file>", description: "the file (-: standard input)" } as const;

/** GitHub commands (approvals check, pr comment). */
const pullRequest = {
  kind: "value",
  flags: "--pr <number>",
  description: "the pull request (default: the GitHub Actions event's)",
  parse: parsePullRequestNumber,
} as const satisfies OptionDef;

const diffJson = {
  kind: "value",
  flags: "--diff <file>",
  description: "the changes as `strata diff --format json` wrote them (instead of computing the diff)",
} as const satisfies OptionDef;

const githubRepository = {
  kind: "value",
  flags: "--github-repository <owner/name>",
  description: "the GitHub repository (default: GITHUB_REPOSITORY)",
} as const satisfies OptionDef;

export const validateCommand = defineCommand({
  path: "validate",
  description: "parse, resolve and validate every environment (or those named)",
  options: {
    env: environments("only these environments"),
    skipSecrets: {
      kind: "flag",
      flags: "--skip-secrets",
      description: "check everything that needs no key (for untrusted pull requests); never exits 3",
    },
    ignoreMac: { kind: "flag", flags: "--ignore-mac", description: "decrypt SOPS files that have no MAC" },
    quiet: {
      kind: "flag",
      flags: "-q, --quiet",
      description: "print only errors (nothing when the repository is valid); the exit code tells",
    },
    repo,
    format: report,
  },
  examples: [
    ["strata validate", "every concrete environment"],
    ["strata validate --skip-secrets --format json", "no key needed (a fork's pull request); machine-readable"],
    ["strata validate -e production,production-eu --quiet && echo valid", "only these; only errors are printed"],
  ],
});

export const diffCommand = defineCommand({
  path: "diff",
  description:
    "effective-config diff per environment between two commits (default: merge-base with the default branch vs the working tree)",
  options: {
    base: {
      kind: "value",
      flags: "--base <ref>",
      description: "base commit (default: merge-base of head with origin/HEAD, main or master)",
    },
    head: {
      kind: "value",
      flags: "--head <ref>",
      description: "head commit (default: the working tree, uncommitted and untracked files included)",
    },
    env: environments("only these environments"),
    format: {
      kind: "value",
      flags: "-o, --format <format>",
      description: "output format (default: text, or github in GitHub Actions)",
      choices: ["text", "markdown", "json", "github"],
    },
    exitCode: { kind: "flag", flags: "--exit-code", description: "exit 1 when the effective configuration changes" },
    quiet: {
      kind: "flag",
      flags: "-q, --quiet",
      description: "print nothing; implies --exit-code (exit 1 when anything changes)",
    },
    incremental: {
      kind: "negated",
      flags: "--no-incremental",
      description: "resolve every environment and namespace, not only what the change can reach",
    },
    skipSecrets: {
      kind: "flag",
      flags: "--skip-secrets",
      description: "do not decrypt: compare ciphertext (sensitive changes are then uncertain)",
    },
    repo,
  },
  examples: [
    ["strata diff", "your working tree against the merge-base with the default branch"],
    ["strata diff --base main --head HEAD --env production", "two commits, one environment"],
    ["strata diff --quiet --env production || echo changed", "for scripts: only the exit code (1: it changed)"],
  ],
});

export const pushCommand = defineCommand({
  path: "push",
  description: "validate, build, sign and publish snapshots to the endpoint",
  options: {
    env: environments("environments to push"),
    all: { kind: "flag", flags: "--all", description: "every concrete environment" },
    endpoint,
    signingKey,
    trustedKeys: {
      kind: "value",
      flags: "--trusted-keys <file>",
      description: "keys the endpoint's current version must be signed by (default: signing.trusted_keys)",
    },
    refresh: {
      kind: "flag",
      flags: "--refresh",
      description: "publish unchanged content as a new version with a new expiry",
    },
    allowDirty: {
      kind: "flag",
      flags: "--allow-dirty",
      description: "publish uncommitted changes, marked source.dirty (with their digest) in the signed snapshot",
    },
    force: { kind: "flag", flags: "--force", description: "publish even the content the last rollback replaced" },
    quiet: {
      kind: "flag",
      flags: "-q, --quiet",
      description: "print only what was not published (refused, conflicts, failures); the exit code tells",
    },
    requireApproval: {
      kind: "flag",
      flags: "--require-approval",
      description:
        "publish only if every change since each environment's published version came from a merged pull request with its approvals (GitHub)",
    },
    repo,
    format: textOrJson,
  },
  examples: [
    ["strata push --env production --endpoint http://127.0.0.1:7070 --signing-key ../signing.pem", "one environment"],
    [
      'STRATA_SIGNING_KEY="$(cat ../signing.pem)" strata push --all',
      "every environment, to distribution.endpoint (the variable holds the key itself)",
    ],
    [
      "strata push --all --require-approval",
      "CI on the default branch: only changes that merged pull requests brought with their approvals",
    ],
  ],
});

export const rollbackCommand = defineCommand({
  path: "rollback",
  description: "publish a new version whose content is an older one's (rollbackOf)",
  options: {
    env: environment,
    to: {
      kind: "value",
      flags: "--to <version>",
      description: "the version whose content to republish",
      required: true,
    },
    endpoint,
    signingKey,
    trustedKeys: {
      kind: "value",
      flags: "--trusted-keys <file>",
      description:
        "keys the current and the old version must be signed by (default: signing.trusted_keys, and the signing key)",
    },
    openRevert: {
      kind: "flag",
      flags: "--open-revert",
      description:
        "then open a pull request reverting the commit the rolled-back version was built from (pushed to origin as strata/revert-<env>-v<N>; GITHUB_TOKEN and GITHUB_REPOSITORY set), and say so on its pull request",
    },
    githubRepository,
    repo,
    format: textOrJson,
  },
  examples: [
    ["strata history --env production", "find the version to go back to"],
    [
      "strata rollback --env production --to 41 --signing-key ../signing.pem",
      "republish version 41's content as a new version",
    ],
    [
      "strata rollback --env production --to 41 --open-revert",
      "and open the revert pull request of the change it undoes, so git says what the endpoint serves",
    ],
  ],
});

export const impactCommand = defineCommand({
  path: "impact",
  description:
    "what a published version changed and did: its keys (paths only), the clients that ran it, candidate-vs-control and before/after deltas with intervals, its rollout's decision and why; posted to its pull request when GitHub is configured",
  options: {
    env: environment,
    version: {
      kind: "value",
      flags: "--version <version>",
      description: "the published version",
      required: true,
      parse: parseVersionNumber,
    },
    service: {
      kind: "value",
      flags: "--service <name>",
      description: "a service's own chain (strata.yaml services:)",
    },
    endpoint,
    trustedKeys: {
      kind: "value",
      flags: "--trusted-keys <file>",
      description: "keys the versions must be signed by (default: signing.trusted_keys)",
    },
    pr: {
      kind: "value",
      flags: "--pr <number>",
      description:
        "the pull request to post the report to (default: the version's, from its snapshot); posted when GITHUB_TOKEN is set",
      parse: parsePullRequestNumber,
    },
    comment: {
      kind: "negated",
      flags: "--no-comment",
      description: "do not post to the pull request, even when GitHub is configured",
    },
    githubRepository,
    repo: { ...repo, description: "the configuration repository, for distribution.endpoint and the trusted keys" },
    format: {
      kind: "value",
      flags: "-o, --format <format>",
      description: "output format",
      choices: ["text", "json", "markdown"],
      default: "text",
    },
  },
  examples: [
    ["strata impact --env production --version 42", "what v42 changed, who runs it, how its rollout went"],
    [
      "strata impact --env production --version 42 --format markdown --no-comment",
      "the pull request comment, printed instead of posted",
    ],
    ["strata impact --env production --version 42 --format json", "for scripts and dashboards"],
  ],
});

export const keysCommand = defineCommand({
  path: "keys",
  description: `snapshot signing keys: see ${docsUrl("distribution")}`,
  group: true,
  options: {},
  examples: [
    [
      "strata keys generate --out ../signing.pem",
      "a key pair; in a repository its public key is added to signing.trusted_keys",
    ],
    ["strata keys generate --help", "where the key goes and how push finds it"],
  ],
});

export const keysGenerateCommand = defineCommand({
  path: "keys generate",
  description:
    "write an ed25519 signing key (PKCS#8 PEM, mode 0600), print its public key, and in a repository add it to strata.yaml's signing.trusted_keys",
  options: {
    out: {
      kind: "value",
      flags: "--out <file>",
      description: "where to write the private key (-: print it on stdout)",
      default: "strata-signing-key.pem",
    },
    repo: {
      kind: "value",
      flags: "--repo <dir>",
      description: "the repository whose strata.yaml trusts the key (default: the one around the current directory)",
    },
    trust: { kind: "negated", flags: "--no-trust", description: "do not add the public key to strata.yaml" },
    format: textOrJsonUnset,
  },
  examples: [
    ["strata keys generate --out ../signing.pem", "in a repository: keep the key outside it, trust its public key"],
    ["strata keys generate --out ci.pem --no-trust", "only the key pair: strata.yaml is left alone"],
    ["strata keys generate --out - --no-trust > ci.pem", "the private key on stdout, the public key on stderr"],
  ],
});

export const typegenCommand = defineCommand({
  path: "typegen",
  description: `write a TypeScript declaration of the effective config (StrataConfig, KeyPath, ValueAt): see ${docsUrl("typegen")}`,
  options: {
    out: {
      kind: "value",
      flags: "--out <file>",
      description: "write it to FILE, atomically (default, or -: print it to stdout)",
    },
    check: {
      kind: "flag",
      flags: "--check",
      description: "write nothing; exit 1 when --out FILE is not what typegen would write (for CI)",
    },
    service: {
      kind: "value",
      flags: "--service <name>",
      description: "only the namespaces this service declares (strata.yaml services:)",
    },
    repo,
    format: { ...textOrJson, default: undefined, description: "output format (default: text; json needs --out)" },
  },
  examples: [
    ["strata typegen --out src/strata-config.ts", "write the declaration"],
    ["strata typegen --out src/strata-config.ts --check", "CI: exit 1 when it is out of date"],
    ["strata typegen --service checkout --out src/strata-config.ts", "only the namespaces checkout reads"],
  ],
});

export const historyCommand = defineCommand({
  path: "history",
  description: "the versions published for an environment, newest first",
  options: {
    env: environment,
    service: {
      kind: "value",
      flags: "--service <name>",
      description: "a service's own versions (strata.yaml services:)",
    },
    endpoint,
    repo: { ...repo, description: "the configuration repository, for distribution.endpoint" },
    format: textOrJson,
  },
  examples: [
    ["strata history --env production", "versions, digests, who published them and when"],
    ["strata history --env production --service checkout", "the versions of checkout's own snapshot"],
    [
      "strata history --env production --format json --endpoint https://config.example.com",
      "for scripts (STRATA_TOKEN set)",
    ],
  ],
});

export const logCommand = defineCommand({
  path: "log",
  description: "config blame: the commits that changed the effective value of KEY in an environment",
  arguments: [{ name: "<key>", description: "a key or a glob: database.pool.max, database.*, database.**" }],
  options: {
    env: environment,
    head: { kind: "value", flags: "--head <ref>", description: "start from this commit (default: HEAD)" },
    maxCount: { kind: "value", flags: "--max-count <n>", description: "look at most this many config commits back" },
    format: textOrJsonUnset,
    skipSecrets: {
      kind: "flag",
      flags: "--skip-secrets",
      description: "do not decrypt: compare ciphertext of sensitive values",
    },
    firstParent: {
      kind: "flag",
      flags: "--first-parent",
      description: "credit merges as the main line sees them, not the branch commits they brought",
    },
    repo,
  },
  examples: [
    ["strata log --env production database.pool.max", "who changed it, when, from what to what"],
    ["strata log --env production 'database.**' --max-count 50", "every key under database, recent history only"],
  ],
});

export const explainCommand = defineCommand({
  path: "explain",
  description: "a key's effective value, every layer that set it, and its schema",
  arguments: [
    { name: "<key>", description: "dotted key, e.g. database.pool.max (a prefix explains every key under it)" },
  ],
  options: {
    env: environment,
    skipSecrets: { kind: "flag", flags: "--skip-secrets", description: "do not decrypt SOPS files" },
    repo,
    format: textOrJsonUnset,
  },
  examples: [
    ["strata explain --env production-eu database.pool.max", "the value and each file:line:column that set it"],
    ["strata explain --env production database", "every key under database"],
  ],
});

export const envsCommand = defineCommand({
  path: "envs",
  description: "the environment tree, with production and abstract flags",
  options: { repo, format: report },
  examples: [
    ["strata envs", "the inheritance tree"],
    ["strata envs --format json", "names, parents, chains and flags, for scripts"],
  ],
});

export const schemaCommand = defineCommand({
  path: "schema",
  description: `JSON Schemas for editors: see ${docsUrl("editors")}`,
  group: true,
  options: {},
  examples: [
    ["strata schema export", "write .strata/ schemas and .vscode/settings.json"],
    ["strata schema export --check", "CI: fail when the exported schemas are stale"],
  ],
});

export const schemaExportCommand = defineCommand({
  path: "schema export",
  description:
    "write the editor schemas: .strata/strata.schema.json (strata.yaml), .strata/schemas/<ns>.layer.schema.json (environments/*/<ns>.yaml), and the yaml.schemas and yaml.customTags entries of .vscode/settings.json (merged into the existing file)",
  options: {
    check: {
      kind: "flag",
      flags: "--check",
      description: "write nothing; exit 1 when a file differs from what export would write (for CI)",
    },
    vscode: { kind: "negated", flags: "--no-vscode", description: "leave .vscode/settings.json alone" },
    repo,
    format: textOrJsonUnset,
  },
  examples: [
    ["strata schema export", "after changing schemas/: regenerate the editor schemas"],
    ["strata schema export --check", "in CI: exit 1 when they are out of date"],
    ["strata schema export --no-vscode", `another editor: bind .strata/schemas/ yourself (${docsUrl("editors")})`],
  ],
});

export const initCommand = defineCommand({
  path: "init",
  description:
    "scaffold a configuration repository: strata.yaml, a sample schema, environments, .sops.yaml, the GitHub workflow, .gitignore and the editor schemas (.strata/, .vscode/settings.json)",
  arguments: [{ name: "[dir]", description: "where (default: the current directory)", default: "." }],
  options: {
    existing: {
      kind: "flag",
      flags: "--existing",
      description: "adopt a repository that already has files: write only what is missing and list what was left alone",
    },
    actionRef: {
      kind: "value",
      flags: "--action-ref <sha>",
      description:
        "the commit of the strata release the workflow's `uses: strata-config/strata@…` lines pin (with --existing: fills the placeholder of an existing workflow)",
    },
    defaultBranch: {
      kind: "value",
      flags: "--default-branch <name>",
      description: "the branch whose pushes publish (default: the repository's, else main)",
    },
    format: textOrJsonUnset,
  },
  examples: [
    ["strata init config && cd config", "a new repository in ./config"],
    [
      "strata init config --action-ref 0123456789abcdef0123456789abcdef01234567",
      "the workflow pins that commit of strata's action",
    ],
    ["strata init --existing", "adopt the current directory: add the workflow, editor schemas, .gitignore lines"],
  ],
});

export const versionCommand = defineCommand({
  path: "version",
  description: "print strata's version (the same as --version)",
  options: { format: { ...textOrJson, default: undefined, description: "output format (default: text)" } },
  examples: [
    ["strata version", "the version, e.g. 1.4.0"],
    ["strata version --format json", "the version and the Node.js that runs strata"],
  ],
});

export const resolveCommand = defineCommand({
  path: "resolve",
  description: "print the effective config of one environment",
  options: {
    env: environment,
    key: { kind: "value", flags: "--key <key>", description: "print only this key's value (e.g. database.pool)" },
    format: {
      kind: "value",
      flags: "-o, --format <format>",
      description: `output format (dotenv, configmap, secret: for docker, kubectl, systemd; see ${docsUrl("deploy")})`,
      choices: RESOLVE_FORMATS,
      default: "yaml",
    },
    showSecrets: {
      kind: "flag",
      flags: "--show-secrets",
      description: "print sensitive values in plaintext (masked in GitHub Actions logs)",
    },
    redact: {
      kind: "flag",
      flags: "--redact",
      description: "print sensitive values as <sensitive> even into a pipe or a file (refused otherwise)",
    },
    skipSecrets: skipSecretsLeftOut("do not decrypt; sensitive values print as <sensitive>"),
    ignoreMac: ignoreMac("decrypt SOPS files that have no MAC"),
    name: { kind: "value", flags: "--name <name>", description: "metadata.name of the configmap or secret" },
    namespace: {
      kind: "value",
      flags: "--namespace <namespace>",
      description: "metadata.namespace of the configmap or secret",
    },
    repo,
  },
  examples: [
    ["strata resolve --env production", "the whole effective config, sensitive values as <sensitive>"],
    ["strata resolve --env production --key database.pool --format json", "one key, as JSON"],
    ["strata resolve --env staging --format env --show-secrets", "NAMESPACE_KEY='value' lines, secrets included"],
  ],
});

export const execCommand = defineCommand({
  path: "exec",
  description:
    "run a command with the effective config of an environment as environment variables (nothing is written to disk)",
  arguments: [{ name: "[command...]", description: "-- then the command and its arguments" }],
  options: {
    env: environment,
    showSecrets: {
      kind: "flag",
      flags: "--show-secrets",
      description: "put sensitive values in the environment too (left out otherwise)",
    },
    skipSecrets: skipSecretsLeftOut("do not decrypt; sensitive values are left out"),
    ignoreMac: ignoreMac("decrypt SOPS files that have no MAC"),
    repo,
  },
  examples: [
    [
      "strata exec --env staging -- node server.js",
      "the service with DATABASE_HOST, HTTP_PORT, … set; secrets left out",
    ],
    [
      "strata exec --env production --show-secrets -- ./migrate.sh",
      "secrets included, only in the child's environment",
    ],
    ["strata exec --env staging -- sh -c 'echo $HTTP_PORT'", "the command's exit code is strata's"],
  ],
});

export const secretsCommand = defineCommand({
  path: "secrets",
  description: `SOPS files: encrypt, decrypt, edit, set, rotate, updatekeys, status (compatible with sops 3.13): see ${docsUrl("secrets")}`,
  group: true,
  options: {},
  examples: [
    ["strata secrets set environments/production/database.sops.yaml password --value-stdin", "set a secret"],
    ["strata secrets decrypt environments/production/database.sops.yaml", "print a file's plaintext"],
  ],
});

export const secretsEncryptCommand = defineCommand({
  path: "secrets encrypt",
  description:
    "encrypt a plaintext file for --age/--pgp recipients or the matching .sops.yaml creation rule (FILE -: standard input)",
  arguments: [secretsFileOrStdin],
  options: {
    age: { kind: "list", flags: "--age <recipient>", description: "age recipient" },
    pgp: { kind: "list", flags: "--pgp <fingerprint>", description: "PGP fingerprint" },
    kms: { kind: "list", flags: "--kms <arn>", description: "AWS KMS key ARN" },
    inPlace: { kind: "flag", flags: "-i, --in-place", description: "write the encrypted file over the plaintext" },
    config: {
      kind: "value",
      flags: "--config <path>",
      description: "the .sops.yaml to use (default: found upwards from the working directory)",
    },
    inputType,
  },
  examples: [
    [
      "strata secrets encrypt -i environments/production/database.sops.yaml",
      "in place, for the .sops.yaml rule's keys",
    ],
    ["strata secrets encrypt --age age1... plain.yaml > secret.sops.yaml", "for an explicit recipient"],
  ],
});

export const secretsDecryptCommand = defineCommand({
  path: "secrets decrypt",
  description:
    "print the plaintext (the file's own format, or --format json); --extract prints one value; FILE - reads standard input",
  arguments: [secretsFileOrStdin],
  options: {
    // Not a choice of one: the refusal says what printing without it does (commands/secrets.ts).
    format: { kind: "value", flags: "-o, --format <format>", description: "json (default: the file's own format)" },
    extract: {
      kind: "value",
      flags: "--extract <path>",
      description: 'a dotted path (a.b[0]) or sops\' ["a"]["b"][0]',
    },
    ignoreMac: ignoreMac("decrypt even when the MAC is missing or does not match"),
    inputType,
  },
  examples: [
    ["strata secrets decrypt environments/production/database.sops.yaml", "the whole file"],
    ["strata secrets decrypt --extract password environments/production/database.sops.yaml", "one value"],
    ["kubectl get secret app -o jsonpath='{.data.sops}' | base64 -d | strata secrets decrypt -", "standard input"],
  ],
});

export const secretsEditCommand = defineCommand({
  path: "secrets edit",
  description: "decrypt into $SOPS_EDITOR/$EDITOR and re-encrypt; unchanged values keep their ciphertext",
  arguments: [secretsFile],
  options: {
    ignoreMac: ignoreMac("open even when the MAC is missing or does not match"),
    inputType,
  },
  examples: [
    ["strata secrets edit environments/production/database.sops.yaml", "in $SOPS_EDITOR, else $EDITOR"],
    ["EDITOR=nano strata secrets edit environments/staging/http.sops.yaml", "with a given editor"],
  ],
});

export const secretsSetCommand = defineCommand({
  path: "secrets set",
  description:
    'set one value (JSON, falling back to a string) at a dotted or ["a"]["b"] path; a missing file is created for its .sops.yaml creation rule',
  arguments: [
    secretsFile,
    { name: "<path>", description: 'a dotted path (a.b[0]) or sops\' ["a"]["b"][0]' },
    { name: "[value]", description: "the value (or --value-stdin)" },
  ],
  options: {
    valueStdin: { kind: "flag", flags: "--value-stdin", description: "read the value from standard input" },
    ignoreMac: ignoreMac("open even when the MAC is missing or does not match"),
    inputType,
  },
  examples: [
    [
      "strata secrets set environments/production/database.sops.yaml password --value-stdin < pw.txt",
      "the value never appears in your shell history",
    ],
    [
      "strata secrets set environments/production/http.sops.yaml 'tls.key_id' '\"k-2024\"'",
      "a JSON string at a nested path",
    ],
  ],
});

export const secretsRotateCommand = defineCommand({
  path: "secrets rotate",
  description: "re-encrypt everything under a new data key (for the file's recipients, plus any --add-age/--add-pgp)",
  arguments: [secretsFile],
  options: {
    inPlace: {
      kind: "flag",
      flags: "-i, --in-place",
      description: "write the result over the file (default: print it)",
    },
    addAge: { kind: "list", flags: "--add-age <recipient>", description: "also encrypt for this age recipient" },
    addPgp: { kind: "list", flags: "--add-pgp <fingerprint>", description: "also encrypt for this PGP key" },
    ignoreMac: ignoreMac("rotate even when the MAC is missing or does not match"),
    inputType,
  },
  examples: [
    ["strata secrets rotate -i environments/production/database.sops.yaml", "a new data key, same recipients"],
    ["strata secrets rotate -i --add-age age1... environments/production/database.sops.yaml", "and one more recipient"],
  ],
});

export const secretsUpdatekeysCommand = defineCommand({
  path: "secrets updatekeys",
  description: "re-wrap the data key for the recipients the .sops.yaml creation rules give now",
  arguments: [secretsFile],
  options: {
    config: { kind: "value", flags: "--config <path>", description: "the .sops.yaml to use" },
    yes: { kind: "flag", flags: "-y, --yes", description: "accepted for sops compatibility (strata never prompts)" },
    inputType,
  },
  examples: [
    ["strata secrets updatekeys environments/production/database.sops.yaml", "after editing .sops.yaml"],
    ['for f in environments/*/*.sops.yaml; do strata secrets updatekeys -y "$f"; done', "every file"],
  ],
});

export const secretsStatusCommand = defineCommand({
  path: "secrets status",
  description: "exit 0 when the file is encrypted, 1 when it is not, 2 when it cannot be read (FILE -: standard input)",
  arguments: [secretsFileOrStdin],
  options: {
    inputType,
    format: textOrJsonUnset,
  },
  examples: [
    ["strata secrets status environments/production/database.sops.yaml", "exit 0: encrypted"],
    ["git ls-files '*.sops.yaml' | xargs -n1 strata secrets status", "a pre-commit check: no plaintext committed"],
  ],
});

export const approvalsCommand = defineCommand({
  path: "approvals",
  description: `approval rules for pull requests: see ${docsUrl("github")}`,
  group: true,
  options: {},
  examples: [
    ["strata approvals check", "in GitHub Actions: evaluate the rules for the event's pull request"],
    ["strata approvals check --pr 42 --no-status", "from a terminal (GITHUB_TOKEN and GITHUB_REPOSITORY set)"],
  ],
});

export const approvalsCheckCommand = defineCommand({
  path: "approvals check",
  description:
    "evaluate the approval rules for a pull request, set the strata/approvals commit status; exit 1 while insufficient",
  options: {
    pr: pullRequest,
    diff: diffJson,
    status: { kind: "negated", flags: "--no-status", description: "do not set the commit status" },
    githubRepository,
    repo,
    format: report,
  },
  examples: [
    ["strata approvals check", "in GitHub Actions: the event's pull request"],
    [
      "strata approvals check --pr 42 --no-status --github-repository acme/config",
      "from a terminal, without setting the status (GITHUB_TOKEN set)",
    ],
  ],
});

export const prCommand = defineCommand({
  path: "pr",
  description: `pull request integration: see ${docsUrl("github")}`,
  group: true,
  options: {},
  examples: [
    ["strata pr comment", "in GitHub Actions: the sticky diff comment on the event's pull request"],
    [
      "strata pr comment --pr 42 --no-approvals",
      "from a terminal, the diff only (GITHUB_TOKEN and GITHUB_REPOSITORY set)",
    ],
  ],
});

export const prCommentCommand = defineCommand({
  path: "pr comment",
  description: "create or update the pull request's sticky comment: the config diff and the approvals it needs",
  options: {
    pr: pullRequest,
    diff: diffJson,
    diffMarkdown: {
      kind: "value",
      flags: "--diff-markdown <file>",
      description: "the diff as `strata diff --format markdown` wrote it (instead of rendering it)",
    },
    approvals: { kind: "negated", flags: "--no-approvals", description: "leave the approvals section out" },
    githubRepository,
    repo,
  },
  examples: [
    ["strata pr comment", "in GitHub Actions: the event's pull request"],
    [
      "strata pr comment --pr 42 --github-repository acme/config --no-approvals",
      "from a terminal, diff only (GITHUB_TOKEN set)",
    ],
  ],
});

export const snapshotCommand = defineCommand({
  path: "snapshot",
  description: "build the signed snapshot push would send (or `snapshot verify FILE`)",
  options: {
    // Required, but not for commander: a mandatory option of `snapshot` would be one of `snapshot verify` too.
    env: { kind: "value", flags: "-e, --env <name>", description: "the environment (required)" },
    service: {
      kind: "value",
      flags: "--service <name>",
      description:
        "a service's snapshot (strata.yaml services:): only its namespaces, secrets to its recipients (version 1: the endpoint has no service chains yet)",
    },
    out: { kind: "value", flags: "--out <file>", description: "write it here instead of stdout (-: stdout)" },
    endpoint: {
      ...endpoint,
      description:
        "follow this endpoint's current version (default: STRATA_ENDPOINT, then distribution.endpoint; none: version 1)",
    },
    signingKey,
    trustedKeys: {
      kind: "value",
      flags: "--trusted-keys <file>",
      description: "keys the endpoint's current version must be signed by (default: signing.trusted_keys)",
    },
    repo,
  },
  examples: [
    [
      "strata snapshot --env production --out production.json --signing-key ../signing.pem",
      "build it without publishing",
    ],
    ["strata snapshot verify production.json", "check its digest and signature against signing.trusted_keys"],
  ],
});

export const snapshotVerifyCommand = defineCommand({
  path: "snapshot verify",
  description:
    "check a snapshot file: shape, digest, a trusted signature, and the secrets' SOPS MAC when SOPS_AGE_KEY_FILE (…) holds a runtime identity",
  arguments: [{ name: "<file>", description: "the snapshot file (`strata snapshot --out`)" }],
  options: {
    env: { kind: "value", flags: "-e, --env <name>", description: "also require this environment" },
    trustedKeys: {
      kind: "value",
      flags: "--trusted-keys <file>",
      description: "trusted public keys, one a line (default: signing.trusted_keys of --repo)",
    },
    repo,
    format: textOrJson,
  },
  examples: [
    ["strata snapshot verify production.json", "against signing.trusted_keys of the repository"],
    [
      "strata snapshot verify production.json --trusted-keys keys.txt --env production",
      "explicit keys; must be production's",
    ],
  ],
});

export const completionCommand = defineCommand({
  path: "completion",
  description:
    "print the shell completion script for bash, zsh or fish (commands, options, and --env names from the repository you are in)",
  arguments: [{ name: "<shell>", description: "bash, zsh or fish", choices: SHELLS }],
  options: {},
  examples: [
    ["source <(strata completion bash)", "bash, this shell only (add it to ~/.bashrc to keep it)"],
    ['strata completion zsh > "${fpath[1]}/_strata"', "zsh, every new shell"],
    ["strata completion fish > ~/.config/fish/completions/strata.fish", "fish, every new shell"],
  ],
});

export const agentCommand = defineCommand({
  path: "agent",
  description:
    "keep files equal to the verified configuration of an environment (a sidecar for services in any language)",
  options: {
    endpoint: { ...endpoint, description: "the endpoint (default: STRATA_ENDPOINT)" },
    // Required, checked by the command (its refusal says how to give it).
    env: { kind: "value", flags: "-e, --env <name>", description: "the environment" },
    out: {
      kind: "list",
      flags: "--out <file>",
      description: "a file to keep up to date; {namespace} in the name writes one file per namespace",
    },
    format: {
      kind: "value",
      flags: "--format <format>",
      description:
        "json, yaml, dotenv (NAME=value, as docker and kubectl read it) or env (NAME='value', for a shell) (default: from the file name: .yaml/.yml, .env as dotenv, else json)",
      choices: ["json", "yaml", "dotenv", "env"],
    },
    exec: {
      kind: "value",
      flags: "--exec <command>",
      description: "a shell command to run after each change (STRATA_VERSION is set)",
    },
    signal: {
      kind: "value",
      flags: "--signal <signal>",
      description: "a signal to send after each change to the process in --pid-file (e.g. SIGHUP)",
    },
    pidFile: { kind: "value", flags: "--pid-file <file>", description: "the file holding the pid to signal" },
    once: { kind: "flag", flags: "--once", description: "write the files once and exit (an init container)" },
    health: {
      kind: "value",
      flags: "--health <addr>",
      description: "HOST:PORT to serve /healthz and Prometheus /metrics on",
    },
    trustedKeys: {
      kind: "value",
      flags: "--trusted-keys <file>",
      description: "public keys whose signatures are accepted, one ed25519:<base64> a line",
    },
    repo: {
      kind: "value",
      flags: "--repo <dir>",
      description:
        "take the trusted keys from the strata.yaml in this directory (signing.trusted_keys); no parent directory is searched",
    },
    identity: {
      kind: "value",
      flags: "--identity <file>",
      description: "age identity file (default: SOPS_AGE_KEY, then SOPS_AGE_KEY_FILE)",
    },
    cacheFile: {
      kind: "value",
      flags: "--cache-file <file>",
      description:
        "last-known-good copy of the snapshot (secrets stay encrypted), used when the endpoint is down at start",
    },
    service: {
      kind: "value",
      flags: "--service <name>",
      description: "this service's name in the endpoint's fleet status",
      default: "strata-agent",
    },
    instance: {
      kind: "value",
      flags: "--instance <id>",
      description:
        "this instance's id in the fleet status and its rollout cohort, the same after a restart (default: STRATA_INSTANCE, else the host name)",
    },
    rolloutKeys: {
      kind: "value",
      flags: "--rollout-keys <file>",
      description:
        "public keys that may sign rollout plans (rollouts.trusted_keys), one ed25519:<base64> a line; without it no plan is followed",
    },
    timeout: {
      kind: "value",
      flags: "--timeout <ms>",
      description: "how long to try the endpoint at start before using the cache file",
      default: "10000",
    },
    allowExpired: {
      kind: "flag",
      flags: "--allow-expired",
      description:
        "accept snapshots past their expiresAt (sites that stay disconnected longer than the expiry; refused by default)",
    },
  },
  examples: [
    [
      "strata agent --env production --out /etc/app/config.json --signal SIGHUP --pid-file /run/app.pid --trusted-keys keys.txt",
      "keep a file current and tell the service to reload",
    ],
    [
      "strata agent --env production --out '/config/{namespace}.json' --once --cache-file /var/cache/strata.json",
      "an init container: one file per namespace, then exit",
    ],
  ],
});

export const serveCommand = defineCommand({
  path: "serve",
  description: `run the distribution endpoint: see ${docsUrl("distribution")}`,
  options: {
    store: {
      kind: "value",
      flags: "--store <store>",
      description: "file:DIR or etcd://HOST:PORT[,HOST:PORT]/PREFIX",
      default: "file:.strata/store",
    },
    listen: {
      kind: "value",
      flags: "--listen <addr>",
      description:
        "HOST:PORT to listen on (without --tokens: loopback only; port 0: any free port); the URL is printed on stdout",
      default: "127.0.0.1:7070",
    },
    tokens: {
      kind: "value",
      flags: "--tokens <file>",
      description: "the tokens file (`strata serve token create`); without it everything is allowed, on loopback only",
    },
    trustedKeys: {
      kind: "value",
      flags: "--trusted-keys <file>",
      description: "public keys whose signatures are accepted, one ed25519:<base64> a line",
    },
    repo: {
      kind: "value",
      flags: "--repo <dir>",
      description: "take the trusted keys from this repository's signing.trusted_keys",
    },
    maxBody: {
      kind: "value",
      flags: "--max-body <bytes>",
      description: "the largest snapshot accepted (e.g. 8M)",
      parse: parseBytes,
    },
    maxConnections: {
      kind: "value",
      flags: "--max-connections <n>",
      description: "open connections in total (more are closed at once)",
      parse: parseCount,
    },
    maxConnectionsPerClient: {
      kind: "value",
      flags: "--max-connections-per-client <n>",
      description: "open connections per client address",
      parse: parseCount,
    },
    logLevel: {
      kind: "value",
      flags: "--log-level <level>",
      description: "debug (every request), info, warn or error",
      choices: ["debug", "info", "warn", "error"],
      default: "info",
    },
    rolloutKey: {
      kind: "value",
      flags: "--rollout-key <file>",
      description:
        "run rollouts (needs --repo: strata.yaml `rollouts:`): the Ed25519 key that signs the plans, its public key in rollouts.trusted_keys (or STRATA_ROLLOUT_KEY, the PEM text)",
    },
    prometheus: {
      kind: "value",
      flags: "--prometheus <url>",
      description:
        "the Prometheus the rollouts' prometheus gates query (credentials in the URL, or STRATA_PROMETHEUS_TOKEN as a bearer token)",
    },
    webhook: {
      kind: "variadic",
      flags: "--webhook <kind=url...>",
      description:
        "send change events: cdevents=URL, grafana=URL (…/api/annotations), datadog=URL (repeatable; tokens from STRATA_CDEVENTS_TOKEN, STRATA_GRAFANA_TOKEN, STRATA_DATADOG_API_KEY)",
    },
    rolloutInterval: {
      kind: "value",
      flags: "--rollout-interval <duration>",
      description: "how often the rollouts' gates are evaluated (100ms to 10m; default 5s)",
      parse: parseInterval,
    },
    githubRepository: {
      kind: "value",
      flags: "--github-repository <owner/name>",
      description:
        "when a rollout rolls back, open the pull request reverting the version's commit here and say so on its pull request (needs --rollout-key; --repo a clone that can push to origin; GITHUB_TOKEN)",
    },
    githubApiUrl: {
      kind: "value",
      flags: "--github-api-url <url>",
      description: "the GitHub API for --github-repository (default: GITHUB_API_URL, else https://api.github.com)",
    },
  },
  examples: [
    ["strata serve --store file:../store --repo .", "on loopback, trusting the repository's signing.trusted_keys"],
    [
      "strata serve --store etcd://10.0.0.5:2379/strata --repo . --tokens tokens.json --rollout-key rollout.pem --prometheus http://prometheus:9090 --webhook grafana=http://grafana:3000/api/annotations",
      "with progressive delivery: rollouts signed with the rollout key, Prometheus gates, Grafana annotations",
    ],
    [
      "strata serve --store etcd://10.0.0.5:2379/strata --listen 0.0.0.0:7070 --tokens tokens.json --trusted-keys keys.txt",
      "in production: etcd, tokens required",
    ],
  ],
});

export const serveTokenCommand = defineCommand({
  path: "serve token",
  description: "manage the endpoint's tokens",
  group: true,
  options: {},
  examples: [
    ["strata serve token create --scope 'read:production*' --name checkout", "a read token for one service"],
    [
      "strata serve token create --scope admin --tokens /etc/strata/tokens.json",
      "an admin token, in a given tokens file",
    ],
  ],
});

export const serveTokenCreateCommand = defineCommand({
  path: "serve token create",
  description: "add a token to the tokens file and print it (once: only its hash is stored)",
  options: {
    scope: {
      kind: "variadic",
      flags: "--scope <scope...>",
      description: "read:<env-glob>, push:<env-glob> or admin (repeatable)",
      required: true,
    },
    name: { kind: "value", flags: "--name <name>", description: "a name for logs and the audit log" },
    tokens: { kind: "value", flags: "--tokens <file>", description: "the tokens file", default: "strata-tokens.json" },
    format: textOrJsonUnset,
  },
  examples: [
    [
      "strata serve token create --scope 'read:production*' --name checkout",
      "a service that reads production environments",
    ],
    ["strata serve token create --scope push:staging --scope read:staging --name ci", "CI publishing staging"],
  ],
});

export const statusCommand = defineCommand({
  path: "status",
  description: "what each environment runs: current version, age, and which clients run which version",
  options: {
    env: { kind: "value", flags: "-e, --env <name>", description: "only this environment" },
    endpoint,
    repo: { ...repo, description: "the configuration repository, for distribution.endpoint" },
    format: textOrJson,
  },
  examples: [
    ["strata status", "every environment at distribution.endpoint"],
    ["strata status --env production --format json", "one environment, for scripts"],
  ],
});

const rolloutOptions = {
  env: { kind: "value", flags: "-e, --env <name>", description: "the environment", required: true },
  service: {
    kind: "value",
    flags: "--service <name>",
    description: "a service's own chain (strata.yaml services:)",
  },
  endpoint,
  repo: { ...repo, description: "the configuration repository, for distribution.endpoint" },
  format: textOrJson,
} as const satisfies Readonly<Record<string, OptionDef>>;

const rolloutReason = {
  kind: "value",
  flags: "--reason <text>",
  description: "why, for the audit trail and the status",
} as const satisfies OptionDef;

export const rolloutCommand = defineCommand({
  path: "rollout",
  description: `a rollout of the endpoint: its status, and pause, resume, abort or promote it (see ${docsUrl("rollouts")})`,
  group: true,
  options: {},
  examples: [
    ["strata rollout status --env production", "phase, share, cohorts and the latest decisions with their reasons"],
    ["strata rollout pause --env production --reason 'checking a dashboard'", "hold the rollout where it is"],
  ],
});

export const rolloutStatusCommand = defineCommand({
  path: "rollout status",
  description: "the rollout of an environment: phase, share, plan, cohorts, clients and the latest decisions",
  options: rolloutOptions,
  examples: [
    ["strata rollout status --env production", "why it holds, advanced or rolled back"],
    ["strata rollout status --env production --format json", "the endpoint's status document, for scripts"],
  ],
});

const rolloutActionCommand = (action: "pause" | "resume" | "abort" | "promote", description: string) =>
  defineCommand({
    path: `rollout ${action}`,
    description,
    options: { ...rolloutOptions, reason: rolloutReason },
    examples: [
      [`strata rollout ${action} --env production --reason '…'`, "recorded with the token's name"],
      [`strata rollout ${action} --env production --format json`, "the new status document, for scripts"],
    ],
  });

export const rolloutPauseCommand = rolloutActionCommand(
  "pause",
  "hold the rollout at its share (a breach still rolls it back)",
);
export const rolloutResumeCommand = rolloutActionCommand("resume", "let a paused rollout go on");
export const rolloutAbortCommand = rolloutActionCommand("abort", "send every client back to the stable version");
export const rolloutPromoteCommand = rolloutActionCommand(
  "promote",
  "send every client to the candidate now, without waiting for the gates",
);

/**
 * Every command, a parent before its subcommands. Nothing registers an option outside these tables
 * (test/cli/option-tables.test.ts compares them with the tree the command modules build).
 */
export const COMMAND_TABLE: readonly CommandDef[] = [
  validateCommand,
  resolveCommand,
  execCommand,
  envsCommand,
  explainCommand,
  initCommand,
  secretsCommand,
  secretsEncryptCommand,
  secretsDecryptCommand,
  secretsEditCommand,
  secretsSetCommand,
  secretsRotateCommand,
  secretsUpdatekeysCommand,
  secretsStatusCommand,
  diffCommand,
  logCommand,
  approvalsCommand,
  approvalsCheckCommand,
  prCommand,
  prCommentCommand,
  keysCommand,
  keysGenerateCommand,
  serveCommand,
  serveTokenCommand,
  serveTokenCreateCommand,
  snapshotCommand,
  snapshotVerifyCommand,
  pushCommand,
  rollbackCommand,
  impactCommand,
  historyCommand,
  statusCommand,
  rolloutCommand,
  rolloutStatusCommand,
  rolloutPauseCommand,
  rolloutResumeCommand,
  rolloutAbortCommand,
  rolloutPromoteCommand,
  agentCommand,
  typegenCommand,
  schemaCommand,
  schemaExportCommand,
  completionCommand,
  versionCommand,
];

/** Parses a command line against the tables, running nothing (spec.ts, `parseWithTable`). */
export function parseCli(argv: readonly string[]): ParsedCli | null {
  return parseWithTable(argv, COMMAND_TABLE);
}
