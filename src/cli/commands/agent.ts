import { constants } from "node:os";
import type { Command } from "commander";
import { StrataError, type Code } from "../../core/findings.js";
import type { ClientErrorCode } from "../../client/errors.js";
import { redact } from "../../core/redact.js";
import { attachAction } from "../spec.js";
import { agentCommand } from "../table.js";
import { docsUrl } from "../../core/docs.js";

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
  // Never thrown (a refused plan leaves the version in use): an `error` event only.
  "plan-refused": "invalid-snapshot",
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
  attachAction(program, agentCommand, async (opts) => {
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
    const instance = opts.instance ?? process.env.STRATA_INSTANCE;

    // Trust is named, never found: a strata.yaml in the working directory or a parent (planted in /tmp by
    // another user, say) must not decide which signatures the agent accepts.
    if (opts.trustedKeys === undefined && opts.repo === undefined)
      throw new StrataError("invalid-argument", "no trusted keys: snapshots could not be verified", {
        hint: "pass --trusted-keys FILE, or --repo DIR (the repository whose strata.yaml lists signing.trusted_keys); the agent never looks for a strata.yaml in the working directory or its parents",
      });
    const { loadTrustedKeys } = await import("../../app/distribution/settings.js");
    const trusted = await loadTrustedKeys({ file: opts.trustedKeys, repoDir: opts.repo, searchParents: false });
    const rolloutKeys = opts.rolloutKeys === undefined ? undefined : await loadTrustedKeys({ file: opts.rolloutKeys });
    const { startAgent, formatForPath } = await import("../../client/agent/index.js");
    const { StrataClientError } = await import("../../client/errors.js");
    // A stop asked for while the agent starts (after its first write, before it follows) is honoured once it
    // is up, rather than killing it mid-start with the signal's default action.
    let stopRequested = false;
    const early = (): void => void (stopRequested = true);
    if (opts.once !== true) {
      process.on("SIGINT", early);
      process.on("SIGTERM", early);
    }
    let agent;
    try {
      agent = await startAgent({
        client: {
          endpoint,
          environment: opts.env,
          service: opts.service,
          trustedKeys: trusted.map((k) => k.text),
          timeoutMs,
          ...(instance ? { instance } : {}),
          ...(opts.cacheFile !== undefined ? { cacheFile: opts.cacheFile } : {}),
          ...(opts.allowExpired === true ? { allowExpired: true } : {}),
          ...(rolloutKeys !== undefined ? { rolloutKeys: rolloutKeys.map((k) => k.text) } : {}),
        },
        outputs: opts.out.map((path) => ({
          path,
          format: opts.format ?? formatForPath(path.replaceAll("{namespace}", "x")),
        })),
        ...(opts.exec !== undefined ? { exec: opts.exec } : {}),
        // --signal without --pid-file was refused above.
        ...(signal !== undefined && opts.pidFile !== undefined
          ? { signal: signal as NodeJS.Signals, pidFile: opts.pidFile }
          : {}),
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
      process.off("SIGINT", early);
      process.off("SIGTERM", early);
      if (stopRequested) stop();
    });
  });
}
