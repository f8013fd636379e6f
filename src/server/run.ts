import { readFile } from "node:fs/promises";
import { loadTrustedKeys, readDistributionSettings } from "../app/distribution/index.js";
import { StrataError } from "../core/findings.js";
import { parseSigningKey, type SigningKey } from "../core/snapshot/index.js";
import { WEBHOOK_FORMATS, type WebhookFormat } from "../io/webhooks/formats.js";
import type { WebhookSink } from "../io/webhooks/deliver.js";
import { createPrometheusClient } from "../io/prometheus/client.js";
import { DEFAULT_ROLLOUT_INTERVAL_MS, type RolloutConfig } from "./rollouts/manager.js";
import { openStore } from "../io/stores/index.js";
import { parseListenAddress } from "./listen.js";
import { createJsonLogger } from "./log.js";
import { DEFAULT_LIMITS, type ServerLimits } from "./connections.js";
import type { LogFn } from "./log.js";
import { startServer, type RunningServer } from "./server.js";
import type { RevertPullRequestConfig } from "./rollouts/revert-pr.js";
import { registerSecret } from "../core/redact.js";
import { createGitHubApi } from "../io/github/api.js";
import { createOctokit } from "../io/github/client.js";
import { parseRepository, readGitHubEnvironment, requireToken } from "../io/github/env.js";
import { runGitRaw } from "../io/git/run.js";
import { readTokens } from "./tokens.js";

export interface ServeOptions {
  store: string;
  listen: string;
  tokens?: string | undefined;
  trustedKeys?: string | undefined;
  repo?: string | undefined;
  maxBodyBytes?: number | undefined;
  limits?: Partial<ServerLimits>;
  logLevel?: "debug" | "info" | "warn" | "error";
  log?: LogFn;
  /** `--rollout-key FILE` (else STRATA_ROLLOUT_KEY): run rollouts. */
  rolloutKey?: string | undefined;
  prometheus?: string | undefined;
  /** `--webhook KIND=URL`, each. */
  webhook?: string[] | undefined;
  rolloutInterval?: number | undefined;
  /** `--github-repository owner/name`: open the revert pull request of an automatic rollback (GITHUB_TOKEN). */
  githubRepository?: string | undefined;
  /** `--github-api-url` (else GITHUB_API_URL, else https://api.github.com). */
  githubApiUrl?: string | undefined;
  /** Where STRATA_ROLLOUT_KEY and the webhook and Prometheus tokens are read (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/** The PEM text of the rollout key: `--rollout-key FILE`, else STRATA_ROLLOUT_KEY; null when neither. */
async function readRolloutKey(file: string | undefined, env: NodeJS.ProcessEnv): Promise<SigningKey | null> {
  let pem: string;
  if (file !== undefined) {
    try {
      pem = await readFile(file, "utf8");
    } catch (cause) {
      throw new StrataError("unreadable-file", `cannot read the rollout key ${file}`, { cause });
    }
  } else {
    const text = env.STRATA_ROLLOUT_KEY;
    if (text === undefined || text.trim() === "") return null;
    if (!text.includes("-----BEGIN"))
      throw new StrataError(
        "invalid-argument",
        "STRATA_ROLLOUT_KEY is not a PEM key (it holds the key's text, not a file name)",
        {
          hint: 'pass the file as --rollout-key FILE, or set STRATA_ROLLOUT_KEY="$(cat FILE)"',
        },
      );
    pem = text;
  }
  return parseSigningKey(pem);
}

/** The header each webhook kind's token goes in, and the variable it is read from. */
const WEBHOOK_TOKENS: Record<WebhookFormat, { variable: string; header: (token: string) => [string, string] }> = {
  cdevents: { variable: "STRATA_CDEVENTS_TOKEN", header: (t) => ["authorization", `Bearer ${t}`] },
  grafana: { variable: "STRATA_GRAFANA_TOKEN", header: (t) => ["authorization", `Bearer ${t}`] },
  datadog: { variable: "STRATA_DATADOG_API_KEY", header: (t) => ["dd-api-key", t] },
};

/** `--webhook KIND=URL` -> a sink; its token from the environment, never from the command line. */
function parseWebhook(spec: string, env: NodeJS.ProcessEnv): WebhookSink {
  const eq = spec.indexOf("=");
  const kind = eq < 0 ? "" : spec.slice(0, eq);
  const url = eq < 0 ? "" : spec.slice(eq + 1);
  if (!(WEBHOOK_FORMATS as readonly string[]).includes(kind))
    throw new StrataError(
      "invalid-argument",
      `invalid --webhook ${JSON.stringify(kind || spec.slice(0, 40))}: the kind is one of ${WEBHOOK_FORMATS.join(", ")}`,
      {
        hint: "e.g. --webhook grafana=http://grafana:3000/api/annotations",
      },
    );
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StrataError("invalid-argument", `invalid --webhook ${kind}=…: not a URL`, {
      hint: "an http:// or https:// URL",
    });
  }
  if (parsed.protocol !== "http:" && parsed.protocol !== "https:")
    throw new StrataError("invalid-argument", `invalid --webhook ${kind}=…: not an http(s) URL`);
  const format = kind as WebhookFormat;
  const { variable, header } = WEBHOOK_TOKENS[format];
  const token = env[variable];
  return {
    name: `${format} ${parsed.host}`,
    format,
    url,
    ...(token ? { headers: Object.fromEntries([header(token)]) } : {}),
  };
}

/**
 * The rollout settings: the key, strata.yaml's `rollouts:` of `--repo` (the key's public half must be one of
 * its trusted_keys: clients would refuse every plan otherwise), Prometheus and the webhooks. Null without a
 * rollout key (the server then serves the plans others make, and makes none).
 */
async function loadRolloutConfig(options: ServeOptions): Promise<RolloutConfig | null> {
  const env = options.env ?? process.env;
  const key = await readRolloutKey(options.rolloutKey, env);
  const extras = options.prometheus !== undefined || (options.webhook ?? []).length > 0;
  if (key === null) {
    if (extras)
      throw new StrataError("invalid-argument", "--prometheus and --webhook need --rollout-key", {
        hint: "the server runs rollouts (and sends their change events) with a rollout key: pass --rollout-key FILE",
      });
    return null;
  }
  if (options.repo === undefined)
    throw new StrataError("invalid-argument", "--rollout-key needs --repo: the rollout policies are in strata.yaml", {
      hint: "pass --repo DIR (the repository's root, with strata.yaml `rollouts:`)",
    });
  const distribution = await readDistributionSettings(options.repo);
  const settings = distribution.parsed.rollouts;
  if (settings === undefined || !settings.trustedKeys.includes(key.publicKey.text))
    throw new StrataError(
      "invalid-argument",
      `the rollout key's public key ${key.publicKey.text} is not in ${distribution.label}/strata.yaml rollouts.trusted_keys: clients would refuse every plan it signs`,
      { hint: "add it to rollouts.trusted_keys (through a reviewed pull request), or pass the key that is there" },
    );
  const chains = new Map<string, readonly string[]>();
  for (const [name, info] of distribution.parsed.environments) chains.set(name, info.chain);
  const token = env.STRATA_PROMETHEUS_TOKEN;
  if (options.prometheus !== undefined) {
    try {
      new URL(options.prometheus);
    } catch {
      throw new StrataError("invalid-argument", "invalid --prometheus: not a URL", {
        hint: "e.g. http://prometheus:9090",
      });
    }
  }
  return {
    key,
    settings,
    chains,
    prometheus:
      options.prometheus === undefined
        ? null
        : createPrometheusClient({
            url: options.prometheus,
            ...(token ? { headers: { authorization: `Bearer ${token}` } } : {}),
          }),
    webhooks: (options.webhook ?? []).map((w) => parseWebhook(w, env)),
    intervalMs: options.rolloutInterval ?? DEFAULT_ROLLOUT_INTERVAL_MS,
  };
}

/**
 * `--github-repository`: what the server needs to open the revert pull request of a rollback its loop made.
 * Checked at start (the repository's name, the token, the API URL, a clone with `origin` to push to), so a
 * server never finds out at its first rollback that it cannot. The token is read from the environment only
 * and registered with the redactor: no log line, pull request or comment can carry it.
 */
async function loadRevertConfig(
  options: ServeOptions,
  rollouts: RolloutConfig | null,
  log: LogFn,
): Promise<RevertPullRequestConfig | null> {
  const env = options.env ?? process.env;
  if (options.githubRepository === undefined) {
    if (options.githubApiUrl !== undefined)
      throw new StrataError("invalid-argument", "--github-api-url needs --github-repository", {
        hint: "pass --github-repository owner/name: the repository the revert pull requests are opened in",
      });
    return null;
  }
  if (rollouts === null)
    throw new StrataError("invalid-argument", "--github-repository needs --rollout-key", {
      hint: "the server opens the revert pull request of the rollbacks its rollouts make: pass --rollout-key FILE",
    });
  const repository = parseRepository(options.githubRepository);
  if (repository === null)
    throw new StrataError(
      "invalid-argument",
      `invalid --github-repository ${JSON.stringify(options.githubRepository.slice(0, 100))}: not owner/name`,
      { hint: "e.g. --github-repository acme/config" },
    );
  const github = readGitHubEnvironment(env);
  const apiUrl = options.githubApiUrl ?? github.apiUrl;
  let parsed: URL | null = null;
  try {
    parsed = new URL(apiUrl);
  } catch {
    // refused below
  }
  if (parsed === null || (parsed.protocol !== "http:" && parsed.protocol !== "https:") || parsed.username !== "")
    throw new StrataError(
      "invalid-argument",
      `invalid ${options.githubApiUrl !== undefined ? "--github-api-url" : "GITHUB_API_URL"}: not an http(s) URL without credentials`,
      { hint: "e.g. https://github.example.com/api/v3 for GitHub Enterprise Server; the token goes in GITHUB_TOKEN" },
    );
  const token = requireToken(github);
  registerSecret(token);
  const repoDir = options.repo!; // --rollout-key requires --repo
  if ((await runGitRaw(repoDir, ["remote", "get-url", "origin"])).exitCode !== 0)
    throw new StrataError(
      "invalid-config",
      `--github-repository needs --repo to be a clone with a remote "origin" (the revert branch is pushed there): ${repoDir} has none`,
      { hint: "serve from a clone of the configuration repository that can push to origin" },
    );
  const octokit = await createOctokit({ token, apiUrl, warn: (message) => log("warn", message) });
  const login = env.STRATA_GITHUB_LOGIN?.trim() || null;
  return { github: createGitHubApi(octokit, repository, { login }), repoDir };
}

/** File descriptors kept free of connections: the store's files, etcd's channel, logs. */
const FD_RESERVE = 64;

/**
 * The soft limit on open files (Linux: /proc/self/limits), or null where it cannot be read. Connections are
 * capped below it so that a flood of connections never leaves the store unable to open a file.
 */
async function readOpenFileLimit(): Promise<number | null> {
  const text = await readFile("/proc/self/limits", "utf8").catch(() => null);
  const m = text === null ? null : /^Max open files\s+(\d+|unlimited)/m.exec(text);
  return m === null || m[1] === "unlimited" ? null : Number(m[1]);
}

/**
 * `strata serve`: checks everything that can be wrong before opening the store (keys, tokens, address),
 * then listens. The caller owns the signals and calls `close()`.
 */
export async function runServe(options: ServeOptions): Promise<RunningServer> {
  // --repo names the repository's root: trust is never borrowed from a parent directory's strata.yaml.
  const trustedKeys = await loadTrustedKeys({ file: options.trustedKeys, repoDir: options.repo, searchParents: false });
  const tokens = options.tokens === undefined ? null : await readTokens(options.tokens);
  const listen = parseListenAddress(options.listen);
  const rollouts = await loadRolloutConfig(options);
  const log = options.log ?? createJsonLogger({ level: options.logLevel ?? "info" });
  const revertPullRequests = await loadRevertConfig(options, rollouts, log);
  const store = await openStore(options.store);
  try {
    const fds = await readOpenFileLimit();
    const maxConnections =
      options.limits?.maxConnections ??
      (fds === null
        ? DEFAULT_LIMITS.maxConnections
        : Math.max(16, Math.min(DEFAULT_LIMITS.maxConnections, fds - FD_RESERVE)));
    const limits = { ...options.limits, maxConnections };
    return await startServer(
      {
        store,
        trustedKeys,
        tokens,
        log,
        logRequests: options.logLevel === "debug",
        repoDir: options.repo ?? null,
        rollouts,
        revertPullRequests,
        ...(options.maxBodyBytes ? { maxBodyBytes: options.maxBodyBytes } : {}),
        limits,
      },
      listen,
    );
  } catch (e) {
    await store.close();
    throw e;
  }
}
