// parseCli (src/cli/table.ts) for every command, without a process: the options and arguments each command
// gets from its table (flags, short flags, defaults, repeatable and comma-separated lists, negations, choices,
// value parsers) and the refusals, each an invalid-argument error with exit code 2 and commander's message.
import { describe, expect, it } from "vitest";
import { OUTPUT_FORMAT_NAMES } from "../../src/core/render/formats.js";
import { EXIT, isStrataError } from "../../src/core/findings.js";
import { COMMAND_TABLE, parseCli, RESOLVE_FORMATS } from "../../src/cli/table.js";

type Case = [line: string, command: string, args: unknown[], options: Record<string, unknown>];

const parses: Case[] = [
  ["resolve -e production", "resolve", [], { env: "production", format: "yaml" }],
  [
    "resolve --env staging -o configmap --name app --namespace ns --show-secrets --key database --repo r",
    "resolve",
    [],
    {
      env: "staging",
      format: "configmap",
      name: "app",
      namespace: "ns",
      showSecrets: true,
      key: "database",
      repo: "r",
    },
  ],
  [
    "resolve -e p --redact --skip-secrets --ignore-mac",
    "resolve",
    [],
    { env: "p", format: "yaml", redact: true, skipSecrets: true, ignoreMac: true },
  ],
  // Everything after `--` is the command's, options included.
  ["exec -e staging -- node server.js --port 80", "exec", [["node", "server.js", "--port", "80"]], { env: "staging" }],
  ["exec -e staging --show-secrets --repo r", "exec", [[]], { env: "staging", showSecrets: true, repo: "r" }],
  [
    "secrets encrypt --age a1,a2 --age a3 --pgp F1 --kms arn:k -i --config c.yaml --input-type json f.yaml",
    "secrets encrypt",
    ["f.yaml"],
    { age: ["a1", "a2", "a3"], pgp: ["F1"], kms: ["arn:k"], inPlace: true, config: "c.yaml", inputType: "json" },
  ],
  ["secrets encrypt -", "secrets encrypt", ["-"], {}],
  [
    "secrets decrypt -o json --extract a.b[0] --ignore-mac f.yaml",
    "secrets decrypt",
    ["f.yaml"],
    { format: "json", extract: "a.b[0]", ignoreMac: true },
  ],
  ["secrets edit --input-type dotenv f.env", "secrets edit", ["f.env"], { inputType: "dotenv" }],
  ["secrets set f.yaml a.b", "secrets set", ["f.yaml", "a.b", undefined], {}],
  ["secrets set f.yaml a.b 42 --ignore-mac", "secrets set", ["f.yaml", "a.b", "42"], { ignoreMac: true }],
  ["secrets set --value-stdin f.yaml a.b", "secrets set", ["f.yaml", "a.b", undefined], { valueStdin: true }],
  [
    "secrets rotate -i --add-age x,y --add-pgp F f.yaml",
    "secrets rotate",
    ["f.yaml"],
    { inPlace: true, addAge: ["x", "y"], addPgp: ["F"] },
  ],
  ["secrets updatekeys -y --config c f.yaml", "secrets updatekeys", ["f.yaml"], { yes: true, config: "c" }],
  ["secrets status - -o json", "secrets status", ["-"], { format: "json" }],
  ["approvals check", "approvals check", [], { status: true }],
  [
    "approvals check --pr #42 --no-status --diff d.json --github-repository acme/config -o github --repo r",
    "approvals check",
    [],
    { pr: 42, status: false, diff: "d.json", githubRepository: "acme/config", format: "github", repo: "r" },
  ],
  ["pr comment", "pr comment", [], { approvals: true }],
  [
    "pr comment --pr 7 --no-approvals --diff-markdown d.md --diff d.json",
    "pr comment",
    [],
    { pr: 7, approvals: false, diffMarkdown: "d.md", diff: "d.json" },
  ],
  [
    "snapshot -e production --service checkout --out - --endpoint http://e --signing-key k.pem --trusted-keys t.txt",
    "snapshot",
    [],
    {
      env: "production",
      service: "checkout",
      out: "-",
      endpoint: "http://e",
      signingKey: "k.pem",
      trustedKeys: "t.txt",
    },
  ],
  // --env is required by the command, not by commander (it would then be required of `snapshot verify` too).
  ["snapshot", "snapshot", [], {}],
  ["snapshot verify s.json", "snapshot verify", ["s.json"], { format: "text" }],
  // `snapshot` knows --env too: the option reaches verify either way.
  [
    "snapshot verify s.json -e production --trusted-keys t.txt -o json",
    "snapshot verify",
    ["s.json"],
    { env: "production", trustedKeys: "t.txt", format: "json" },
  ],
  ["completion zsh", "completion", ["zsh"], {}],
  ["agent", "agent", [], { service: "strata-agent", timeout: "10000" }],
  [
    "agent --env p --out a.json,b.json --out c.yaml --once --format dotenv --allow-expired --timeout 500 --service s --instance i",
    "agent",
    [],
    {
      env: "p",
      out: ["a.json", "b.json", "c.yaml"],
      once: true,
      format: "dotenv",
      allowExpired: true,
      timeout: "500",
      service: "s",
      instance: "i",
    },
  ],
  [
    "agent -e p --out o --signal HUP --pid-file p.pid --health :9464 --trusted-keys t --identity id --cache-file c --endpoint http://e",
    "agent",
    [],
    {
      env: "p",
      out: ["o"],
      signal: "HUP",
      pidFile: "p.pid",
      health: ":9464",
      trustedKeys: "t",
      identity: "id",
      cacheFile: "c",
      endpoint: "http://e",
      service: "strata-agent",
      timeout: "10000",
    },
  ],
  ["serve", "serve", [], { store: "file:.strata/store", listen: "127.0.0.1:7070", logLevel: "info" }],
  [
    "serve --store etcd://h:2379/p --listen :0 --tokens t.json --repo . --max-body 8M --max-connections 10 --max-connections-per-client 2 --log-level debug",
    "serve",
    [],
    {
      store: "etcd://h:2379/p",
      listen: ":0",
      tokens: "t.json",
      repo: ".",
      maxBody: 8 * 1024 * 1024,
      maxConnections: 10,
      maxConnectionsPerClient: 2,
      logLevel: "debug",
    },
  ],
  serve("serve --max-body 512k", { maxBody: 512 * 1024 }),
  serve("serve --max-body 1024", { maxBody: 1024 }),
  serve(
    "serve --repo . --rollout-key r.pem --github-repository acme/config --github-api-url https://ghe.example.com/api/v3",
    {
      repo: ".",
      rolloutKey: "r.pem",
      githubRepository: "acme/config",
      githubApiUrl: "https://ghe.example.com/api/v3",
    },
  ),
  ["validate", "validate", [], {}],
  [
    "validate -e a,b --skip-secrets --ignore-mac -q --repo r -o github",
    "validate",
    [],
    { env: ["a", "b"], skipSecrets: true, ignoreMac: true, quiet: true, repo: "r", format: "github" },
  ],
  ["envs -o json --repo r", "envs", [], { format: "json", repo: "r" }],
  [
    "explain -e production database.pool --skip-secrets -o json",
    "explain",
    ["database.pool"],
    { env: "production", skipSecrets: true, format: "json" },
  ],
  ["init", "init", ["."], {}],
  [
    "init config --existing --action-ref abc --default-branch trunk -o json",
    "init",
    ["config"],
    { existing: true, actionRef: "abc", defaultBranch: "trunk", format: "json" },
  ],
  [
    "diff --base main --head HEAD -e p --exit-code --no-incremental --skip-secrets -o markdown",
    "diff",
    [],
    {
      base: "main",
      head: "HEAD",
      env: ["p"],
      exitCode: true,
      incremental: false,
      skipSecrets: true,
      format: "markdown",
    },
  ],
  ["diff -q", "diff", [], { quiet: true, incremental: true }],
  [
    "log -e p a.** --head h --max-count 3 --first-parent --skip-secrets",
    "log",
    ["a.**"],
    { env: "p", head: "h", maxCount: "3", firstParent: true, skipSecrets: true },
  ],
  ["keys generate", "keys generate", [], { out: "strata-signing-key.pem", trust: true }],
  [
    "push -e a -e b --endpoint http://e --trusted-keys t --refresh --allow-dirty --force -q --require-approval",
    "push",
    [],
    {
      env: ["a", "b"],
      endpoint: "http://e",
      trustedKeys: "t",
      refresh: true,
      allowDirty: true,
      force: true,
      quiet: true,
      requireApproval: true,
      format: "text",
    },
  ],
  [
    "rollback -e p --to 41 --signing-key k -o json",
    "rollback",
    [],
    { env: "p", to: "41", signingKey: "k", format: "json" },
  ],
  [
    "rollback -e p --to 41 --open-revert --github-repository acme/config",
    "rollback",
    [],
    { env: "p", to: "41", openRevert: true, githubRepository: "acme/config", format: "text" },
  ],
  ["impact -e p --version 7", "impact", [], { env: "p", version: 7, comment: true, format: "text" }],
  // The rollout commands (feat/rollout's; here so that every command of the tables has a case).
  ["rollout status -e p", "rollout status", [], { env: "p", format: "text" }],
  ...(["pause", "resume", "abort", "promote"] as const).map((action): Case => [
    `rollout ${action} -e p --service s --reason why -o json`,
    `rollout ${action}`,
    [],
    { env: "p", service: "s", reason: "why", format: "json" },
  ]),
  [
    "impact -e p --version 7 --service checkout --endpoint http://e --trusted-keys t --pr #42 --no-comment --github-repository acme/config --repo r -o markdown",
    "impact",
    [],
    {
      env: "p",
      version: 7,
      service: "checkout",
      endpoint: "http://e",
      trustedKeys: "t",
      pr: 42,
      comment: false,
      githubRepository: "acme/config",
      repo: "r",
      format: "markdown",
    },
  ],
  ["history -e p", "history", [], { env: "p", format: "text" }],
  [
    "typegen --out - --check --service checkout -o json",
    "typegen",
    [],
    { out: "-", check: true, service: "checkout", format: "json" },
  ],
  ["schema export", "schema export", [], { vscode: true }],
  ["schema export --check --no-vscode", "schema export", [], { check: true, vscode: false }],
  ["version -o json", "version", [], { format: "json" }],
  status("status", {}),
  status("status -e production -o json --endpoint http://e --repo r", {
    env: "production",
    format: "json",
    endpoint: "http://e",
    repo: "r",
  }),
];

function serve(line: string, options: Record<string, unknown>): Case {
  return [line, "serve", [], { store: "file:.strata/store", listen: "127.0.0.1:7070", logLevel: "info", ...options }];
}

function status(line: string, options: Record<string, unknown>): Case {
  return [line, "status", [], { format: "text", ...options }];
}

/** The error parseCli throws: invalid-argument, exit 2 (as main.ts exits for what commander refuses). */
function refusal(argv: string[]): string {
  try {
    parseCli(argv);
  } catch (error) {
    expect(isStrataError(error), argv.join(" ")).toBe(true);
    if (!isStrataError(error)) throw error;
    expect(error.code).toBe("invalid-argument");
    expect(error.exitCode).toBe(EXIT.usage);
    return error.message;
  }
  throw new Error(`${argv.join(" ")} parsed`);
}

describe("parseCli, command by command", () => {
  it.each(parses)("%s", (line, command, args, options) => {
    expect(parseCli(line.split(" "))).toEqual({ command, args, options });
  });

  it("serve token create: --scope takes one or more values, repeatable; --tokens has a default and is read at both levels", () => {
    const parsed = parseCli(["serve", "token", "create", "--scope", "read:a", "push:b", "--scope", "admin"]);
    expect(parsed).toMatchObject({
      command: "serve token create",
      options: { scope: ["read:a", "push:b", "admin"], tokens: "strata-tokens.json" },
    });
    // Before --scope, `serve` takes --tokens as its own; the command sees it all the same.
    expect(parseCli(["serve", "token", "create", "--tokens", "t.json", "--scope", "admin"])?.options).toMatchObject({
      tokens: "t.json",
      scope: ["admin"],
    });
    expect(
      parseCli(["serve", "token", "create", "--scope", "admin", "--tokens", "t.json", "-o", "json", "--name", "ci"])
        ?.options,
    ).toMatchObject({ tokens: "t.json", scope: ["admin"], format: "json", name: "ci" });
  });

  const refused: [string, RegExp][] = [
    ["resolve", /required option '-e, --env <name>' not specified/],
    [
      "resolve -e p -o toml",
      /argument 'toml' is invalid\. Allowed choices are yaml, json, env, dotenv, configmap, secret/,
    ],
    ["resolve -e p --bogus", /unknown option '--bogus'/],
    ["resolve -e p --key", /option '--key <key>' argument missing/],
    ["exec --show-secrets", /required option '-e, --env <name>' not specified/],
    ["exec -e p --bogus", /unknown option '--bogus'/],
    ["secrets decrypt", /missing required argument 'file'/],
    ["secrets decrypt f.yaml --in-place", /unknown option '--in-place'/],
    ["secrets encrypt --age", /option '--age <recipient>' argument missing/],
    ["secrets set f", /missing required argument 'path'/],
    ["secrets set f p v extra", /too many arguments/],
    ["secrets status f -o yaml", /argument 'yaml' is invalid\. Allowed choices are text, json/],
    ["secrets rotate f --add-age", /argument missing/],
    ["secrets updatekeys", /missing required argument 'file'/],
    ["secrets edit f --bogus", /unknown option '--bogus'/],
    ["approvals check --pr x", /option '--pr <number>' argument 'x' is invalid\. "x" is not a pull request number/],
    ["approvals check --pr 1.5", /"1\.5" is not a pull request number/],
    ["approvals check -o markdown", /argument 'markdown' is invalid\. Allowed choices are text, json, github/],
    ["pr comment --pr 0", /"0" is not a pull request number/],
    ["pr comment --status", /unknown option '--status'/],
    ["snapshot verify", /missing required argument 'file'/],
    ["snapshot verify f -o yaml", /argument 'yaml' is invalid\. Allowed choices are text, json/],
    ["snapshot --out", /option '--out <file>' argument missing/],
    ["completion", /missing required argument 'shell'/],
    [
      "completion powershell",
      /value 'powershell' is invalid for argument 'shell'\. Allowed choices are bash, zsh, fish/,
    ],
    ["agent --format toml", /argument 'toml' is invalid\. Allowed choices are json, yaml, dotenv, env/],
    ["agent --once=yes", /unknown option '--once=yes'/],
    ["serve --max-body lots", /invalid size "lots"/],
    ["serve --max-connections 0", /expected a positive count, not "0"/],
    ["serve --max-connections-per-client -3", /argument missing|expected a positive count/],
    ["serve --github-repository", /option '--github-repository <owner\/name>' argument missing/],
    ["serve --github-api-url", /option '--github-api-url <url>' argument missing/],
    ["serve --log-level trace", /argument 'trace' is invalid\. Allowed choices are debug, info, warn, error/],
    ["serve token create", /required option '--scope <scope\.\.\.>' not specified/],
    ["serve token create --scope admin -o yaml", /Allowed choices are text, json/],
    ["status --no-such", /unknown option '--no-such'/],
    ["status -o yaml", /Allowed choices are text, json/],
    ["nosuchcommand", /unknown command 'nosuchcommand'/],
    ["history", /required option '-e, --env <name>' not specified/],
    ["impact -e p", /required option '--version <version>' not specified/],
    ["impact --version 3", /required option '-e, --env <name>' not specified/],
    ["impact -e p --version 0", /"0" is not a version number/],
    ["impact -e p --version 1.5", /"1\.5" is not a version number/],
    ["impact -e p --version 2 -o yaml", /Allowed choices are text, json, markdown/],
    ["impact -e p --version 2 --pr x", /"x" is not a pull request number/],
    ["rollback -e p --to 2 --open-revert=yes", /unknown option '--open-revert=yes'/],
    ["diff -o yaml", /Allowed choices are text, markdown, json, github/],
    ["envs -o markdown", /Allowed choices are text, json, github/],
    ["schema export --vscode", /unknown option '--vscode'/],
    ["typegen --out", /argument missing/],
    ["version -o yaml", /Allowed choices are text, json/],
  ];
  it.each(refused)("refuses %s", (line, message) => {
    expect(refusal(line.split(" "))).toMatch(message);
  });

  it("covers every command of the tables", () => {
    const tested = new Set(parses.map(([, command]) => command));
    tested.add("serve token create");
    expect(COMMAND_TABLE.filter((def) => !def.group && !tested.has(def.path)).map((def) => def.path)).toEqual([]);
  });

  it("resolve's formats are the output formats, in their order", () => {
    expect([...RESOLVE_FORMATS]).toEqual(OUTPUT_FORMAT_NAMES);
  });
});
