/**
 * The option tables of the commands (src/cli/spec.ts): data only, so `parseCli`, the completion scripts and
 * the docs can read every command's options without loading what the command runs. A command module binds
 * its table to its action with `attachAction`.
 */
import { docsUrl } from "../core/docs.js";
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

/** Report commands: text by default, github under GitHub Actions (the command decides when not given). */
const report = {
  kind: "value",
  flags: "-o, --format <format>",
  description: "output format (default: text, or github in GitHub Actions)",
  choices: ["text", "json", "github"],
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
    repo,
    format: textOrJson,
  },
  examples: [
    ["strata history --env production", "find the version to go back to"],
    [
      "strata rollback --env production --to 41 --signing-key ../signing.pem",
      "republish version 41's content as a new version",
    ],
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
    format: { ...textOrJson, default: undefined, description: "output format (default: text)" },
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
    format: { ...textOrJson, default: undefined, description: "output format (default: text)" },
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
    format: { ...textOrJson, default: undefined, description: "output format (default: text)" },
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
    format: { ...textOrJson, default: undefined, description: "output format (default: text)" },
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
    format: { ...textOrJson, default: undefined, description: "output format (default: text)" },
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

/**
 * Every command declared as a table, in the order of `strata --help`. The commands not yet here declare their
 * options with commander directly (docs/reference.md lists only these).
 */
export const COMMAND_TABLE: readonly CommandDef[] = [
  initCommand,
  validateCommand,
  explainCommand,
  envsCommand,
  diffCommand,
  logCommand,
  keysCommand,
  keysGenerateCommand,
  pushCommand,
  rollbackCommand,
  historyCommand,
  typegenCommand,
  schemaCommand,
  schemaExportCommand,
  versionCommand,
];

/** Parses a command line against the tables, running nothing (spec.ts, `parseWithTable`). */
export function parseCli(argv: readonly string[]): ParsedCli | null {
  return parseWithTable(argv, COMMAND_TABLE);
}
