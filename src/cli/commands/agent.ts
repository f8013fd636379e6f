import { constants } from "node:os";
import { Option, type Command } from "commander";
import { StrataError, type Code } from "../../core/findings.js";
import type { ClientErrorCode } from "../../client/errors.js";
import { redact } from "../../core/redact.js";
import { collectList, examples } from "../common.js";
import { docsUrl } from "../../core/docs.js";

interface AgentFlags {
  endpoint?: string;
  env?: string;
  out?: string[];
  format?: "json" | "yaml" | "env" | "dotenv";
  exec?: string;
  signal?: string;
  pidFile?: string;
  once?: boolean;
  health?: string;
  trustedKeys?: string;
  repo?: string;
  identity?: string;
  cacheFile?: string;
  service: string;
  instance?: string;
  timeout: string;
  allowExpired?: boolean;
}

/**
 * The SDK's codes as the CLI's (exit 3 for secrets, 4 for distribution). Every code the SDK has is listed, so
 * a new one cannot fall through to "internal" unnoticed: the table does not compile without it.
 */
const CODES = {
  "invalid-signature": "invalid-signature",
  "digest-mismatch": "digest-mismatch",
  "wrong-environment": "invalid-snapshot",
  "version-regression": "invalid-snapshot",
  expired: "invalid-snapshot",
  "invalid-snapshot": "invalid-snapshot",
  "decryption-failed": "decryption-failed",
  "mac-mismatch": "mac-mismatch",
  unreachable: "unreachable",
  unauthenticated: "unauthenticated",
  "access-denied": "access-denied",
  "invalid-argument": "invalid-argument",
  "unknown-environment": "unknown-environment",
  "unknown-service": "unknown-service",
  "unknown-key": "unknown-key",
  closed: "internal",
} as const satisfies Record<ClientErrorCode, Code>;

function parseHealth(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d{1,5})$/.exec(addr);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535)
    throw new StrataError("invalid-argument", `invalid --health ${JSON.stringify(addr)}`, {
      hint: "HOST:PORT, e.g. 127.0.0.1:9464 or :9464",
    });
  return { host: m[1] ?? (m[2] || "127.0.0.1"), port };
}

function jsonLog(level: string, msg: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(redact(JSON.stringify({ time: new Date().toISOString(), level, msg, ...fields })) + "\n");
}

export function register(program: Command): void {
  program
    .command("agent")
    .description(
      "keep files equal to the verified configuration of an environment (a sidecar for services in any language)",
    )
    .addHelpText(
      "after",
      examples([
        [
          "strata agent --env production --out /etc/app/config.json --signal SIGHUP --pid-file /run/app.pid --trusted-keys keys.txt",
          "keep a file current and tell the service to reload",
        ],
        [
          "strata agent --env production --out '/config/{namespace}.json' --once --cache-file /var/cache/strata.json",
          "an init container: one file per namespace, then exit",
        ],
      ]),
    )
    .option("--endpoint <url>", "the endpoint (default: STRATA_ENDPOINT)")
    .option("-e, --env <name>", "the environment")
    .option(
      "--out <file>",
      "a file to keep up to date (repeatable); {namespace} in the name writes one file per namespace",
      collectList,
    )
    .addOption(
      new Option(
        "--format <format>",
        "json, yaml, dotenv (NAME=value, as docker and kubectl read it) or env (NAME='value', for a shell) (default: from the file name: .yaml/.yml, .env as dotenv, else json)",
      ).choices(["json", "yaml", "dotenv", "env"]),
    )
    .option("--exec <command>", "a shell command to run after each change (STRATA_VERSION is set)")
    .option("--signal <signal>", "a signal to send after each change to the process in --pid-file (e.g. SIGHUP)")
    .option("--pid-file <file>", "the file holding the pid to signal")
    .option("--once", "write the files once and exit (an init container)")
    .option("--health <addr>", "HOST:PORT to serve /healthz and Prometheus /metrics on")
    .option("--trusted-keys <file>", "public keys whose signatures are accepted, one ed25519:<base64> a line")
    .option(
      "--repo <dir>",
      "take the trusted keys from the strata.yaml in this directory (signing.trusted_keys); no parent directory is searched",
    )
    .option("--identity <file>", "age identity file (default: SOPS_AGE_KEY, then SOPS_AGE_KEY_FILE)")
    .option(
      "--cache-file <file>",
      "last-known-good copy of the snapshot (secrets stay encrypted), used when the endpoint is down at start",
    )
    .option("--service <name>", "this service's name in the endpoint's fleet status", "strata-agent")
    .option(
      "--instance <id>",
      "this instance's id in the fleet status (default: STRATA_INSTANCE, else <hostname>-<pid>)",
    )
    .option("--timeout <ms>", "how long to try the endpoint at start before using the cache file", "10000")
    .option(
      "--allow-expired",
      "accept snapshots past their expiresAt (sites that stay disconnected longer than the expiry; refused by default)",
    )
    .action(async (opts: AgentFlags) => {
      const endpoint = opts.endpoint ?? process.env.STRATA_ENDPOINT;
      if (!endpoint)
        throw new StrataError("invalid-argument", "no endpoint", {
          hint: "pass --endpoint URL or set STRATA_ENDPOINT",
        });
      if (!opts.env) throw new StrataError("invalid-argument", "no environment", { hint: "pass --env NAME" });
      if (!opts.out || opts.out.length === 0)
        throw new StrataError("invalid-argument", "no output file", { hint: "pass --out FILE (repeatable)" });
      if (opts.exec !== undefined && opts.signal !== undefined)
        throw new StrataError(
          "invalid-argument",
          "--exec and --signal are exclusive: choose one way to tell the service",
        );
      if (opts.signal !== undefined && opts.pidFile === undefined)
        throw new StrataError("invalid-argument", "--signal needs --pid-file");
      const signal =
        opts.signal === undefined
          ? undefined
          : opts.signal.toUpperCase().startsWith("SIG")
            ? opts.signal.toUpperCase()
            : `SIG${opts.signal.toUpperCase()}`;
      if (signal !== undefined && !(signal in constants.signals))
        throw new StrataError("invalid-argument", `unknown signal ${opts.signal}`, { hint: "e.g. SIGHUP, SIGUSR1" });
      const timeoutMs = Number(opts.timeout);
      if (!Number.isFinite(timeoutMs) || timeoutMs <= 0)
        throw new StrataError("invalid-argument", `invalid --timeout ${opts.timeout}`, {
          hint: "milliseconds, e.g. 10000",
        });
      const health = opts.health === undefined ? undefined : parseHealth(opts.health);

      // Trust is named, never found: a strata.yaml in the working directory or a parent (planted in /tmp by
      // another user, say) must not decide which signatures the agent accepts.
      if (opts.trustedKeys === undefined && opts.repo === undefined)
        throw new StrataError("invalid-argument", "no trusted keys: snapshots could not be verified", {
          hint: "pass --trusted-keys FILE, or --repo DIR (the repository whose strata.yaml lists signing.trusted_keys); the agent never looks for a strata.yaml in the working directory or its parents",
        });
      const { loadTrustedKeys } = await import("../../app/distribution/settings.js");
      const trusted = await loadTrustedKeys({ file: opts.trustedKeys, repoDir: opts.repo, searchParents: false });
      const { startAgent, formatForPath } = await import("../../client/agent/index.js");
      const { StrataClientError } = await import("../../client/errors.js");
      let agent;
      try {
        agent = await startAgent({
          client: {
            endpoint,
            environment: opts.env,
            service: opts.service,
            trustedKeys: trusted.map((k) => k.text),
            timeoutMs,
            ...((opts.instance ?? process.env.STRATA_INSTANCE)
              ? { instance: opts.instance ?? process.env.STRATA_INSTANCE! }
              : {}),
            ...(opts.cacheFile !== undefined ? { cacheFile: opts.cacheFile } : {}),
            ...(opts.allowExpired === true ? { allowExpired: true } : {}),
          },
          outputs: opts.out.map((path) => ({
            path,
            format: opts.format ?? formatForPath(path.replaceAll("{namespace}", "x")),
          })),
          ...(opts.exec !== undefined ? { exec: opts.exec } : {}),
          ...(signal !== undefined ? { signal: signal as NodeJS.Signals, pidFile: opts.pidFile! } : {}),
          ...(health !== undefined ? { health } : {}),
          once: opts.once === true,
          ...(opts.identity !== undefined ? { identityFile: opts.identity } : {}),
          log: jsonLog,
        });
      } catch (e) {
        if (e instanceof StrataClientError) {
          throw new StrataError(CODES[e.code], `${opts.env}: ${e.message}`, {
            cause: e,
            hint: `nothing was written; see ${docsUrl("runtime")} for what each check means`,
          });
        }
        throw e;
      }
      if (opts.once) return;
      // Until a signal: then close the stream, the health server and finish a write in progress.
      const running = agent;
      await new Promise<void>((resolve) => {
        const stop = (): void => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          void running.close().then(resolve, resolve);
        };
        process.on("SIGINT", stop);
        process.on("SIGTERM", stop);
      });
    });
}
