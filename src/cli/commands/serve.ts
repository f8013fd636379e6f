import { Option, type Command } from "commander";
import { isStrataError, StrataError } from "../../core/findings.js";
import { log, print, printData } from "../output.js";
import { examples } from "../common.js";

const DEFAULT_TOKENS = "strata-tokens.json";

function parseBytes(value: string): number {
  const m = /^(\d+)([kKmM]i?[bB]?)?$/.exec(value.trim());
  if (!m)
    throw new StrataError("invalid-argument", `invalid size ${JSON.stringify(value)}`, {
      hint: "e.g. 8388608, 8M or 512k",
    });
  const unit = (m[2] ?? "").toLowerCase()[0];
  return Number(m[1]) * (unit === "m" ? 1024 * 1024 : unit === "k" ? 1024 : 1);
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value.trim()) || n < 1)
    throw new StrataError("invalid-argument", `expected a positive count, not ${JSON.stringify(value)}`);
  return n;
}

/** `cannot listen on …` says what to do about it: another port, or any free one. */
function listenHint(error: unknown): unknown {
  if (!isStrataError(error) || !error.message.startsWith("cannot listen") || error.hint !== null) return error;
  const hint = /EACCES/.test(error.message)
    ? "ports below 1024 need privileges: choose another with --listen HOST:PORT, e.g. --listen 127.0.0.1:7070"
    : /EADDRINUSE/.test(error.message)
      ? "another process listens there: choose another port with --listen HOST:PORT, or --listen 127.0.0.1:0 for any free one (serve prints the URL it listens on)"
      : "choose an address of this machine with --listen HOST:PORT, e.g. --listen 127.0.0.1:7070 (or port 0 for any free one)";
  return new StrataError(error.code, error.message, { hint, cause: error, exitCode: error.exitCode });
}

export function register(program: Command): void {
  const serve = program
    .command("serve")
    .description("run the distribution endpoint: see docs/distribution.md")
    .addHelpText(
      "after",
      examples([
        ["strata serve --store file:../store --repo .", "on loopback, trusting the repository's signing.trusted_keys"],
        [
          "strata serve --store etcd://10.0.0.5:2379/strata --listen 0.0.0.0:7070 --tokens tokens.json --trusted-keys keys.txt",
          "in production: etcd, tokens required",
        ],
        ["strata serve token create --scope 'read:production*' --name checkout", "a token for a service"],
      ]),
    )
    .option("--store <store>", "file:DIR or etcd://HOST:PORT[,HOST:PORT]/PREFIX", "file:.strata/store")
    .option(
      "--listen <addr>",
      "HOST:PORT to listen on (without --tokens: loopback only; port 0: any free port); the URL is printed on stdout",
      "127.0.0.1:7070",
    )
    .option(
      "--tokens <file>",
      "the tokens file (`strata serve token create`); without it everything is allowed, on loopback only",
    )
    .option("--trusted-keys <file>", "public keys whose signatures are accepted, one ed25519:<base64> a line")
    .option("--repo <dir>", "take the trusted keys from this repository's signing.trusted_keys")
    .option("--max-body <bytes>", "the largest snapshot accepted (e.g. 8M)", parseBytes)
    .option("--max-connections <n>", "open connections in total (more are closed at once)", parseCount)
    .option("--max-connections-per-client <n>", "open connections per client address", parseCount)
    .option("--log-level <level>", "debug (every request), info, warn or error", "info")
    .action(
      async (opts: {
        store: string;
        listen: string;
        tokens?: string;
        trustedKeys?: string;
        repo?: string;
        maxBody?: number;
        maxConnections?: number;
        maxConnectionsPerClient?: number;
        logLevel: string;
      }) => {
        if (!["debug", "info", "warn", "error"].includes(opts.logLevel))
          throw new StrataError("invalid-argument", `invalid --log-level ${opts.logLevel}`);
        const { runServe, readTokens, createJsonLogger } = await import("../../server/index.js");
        // One structured log stream on stderr for the server and for what happens around it.
        const jsonLog = createJsonLogger({ level: opts.logLevel as "info" });
        const limits = {
          ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
          ...(opts.maxConnectionsPerClient !== undefined
            ? { maxConnectionsPerAddress: opts.maxConnectionsPerClient }
            : {}),
        };
        const server = await runServe({ ...opts, limits, logLevel: opts.logLevel as "info", log: jsonLog }).catch(
          (e: unknown) => {
            throw listenHint(e);
          },
        );
        // The one line on stdout: scripts read the URL there (with --listen 127.0.0.1:0, the port it picked).
        print(server.url);
        // Until a signal: then stop accepting, end long-polls and streams, close the store.
        await new Promise<void>((resolve) => {
          const stop = (): void => {
            process.off("SIGINT", stop);
            process.off("SIGTERM", stop);
            void server.close().then(resolve, (e: unknown) => {
              jsonLog("error", "error while shutting down", { error: (e as Error).message });
              resolve();
            });
          };
          process.on("SIGINT", stop);
          process.on("SIGTERM", stop);
          if (opts.tokens !== undefined) {
            const tokensFile = opts.tokens;
            // SIGHUP: re-read the tokens file (new or revoked tokens) without dropping watchers.
            process.on("SIGHUP", () => {
              void readTokens(tokensFile).then(
                (tokens) => {
                  server.replaceTokens(tokens);
                  jsonLog("info", "reloaded tokens", { file: tokensFile, tokens: tokens.size });
                },
                (e: unknown) =>
                  jsonLog("error", "kept the old tokens", { file: tokensFile, error: (e as Error).message }),
              );
            });
          }
        });
      },
    );

  serve
    .command("token")
    .description("manage the endpoint's tokens")
    .addHelpText(
      "after",
      examples([
        ["strata serve token create --scope 'read:production*' --name checkout", "a read token for one service"],
        [
          "strata serve token create --scope admin --tokens /etc/strata/tokens.json",
          "an admin token, in a given tokens file",
        ],
      ]),
    )
    .command("create")
    .description("add a token to the tokens file and print it (once: only its hash is stored)")
    .addHelpText(
      "after",
      examples([
        [
          "strata serve token create --scope 'read:production*' --name checkout",
          "a service that reads production environments",
        ],
        ["strata serve token create --scope push:staging --scope read:staging --name ci", "CI publishing staging"],
      ]),
    )
    .requiredOption("--scope <scope...>", "read:<env-glob>, push:<env-glob> or admin (repeatable)")
    .option("--name <name>", "a name for logs and the audit log")
    .option("--tokens <file>", `the tokens file (default: ${DEFAULT_TOKENS})`)
    .addOption(
      new Option("-o, --format <format>", "output format (text, json; default: text)").choices(["text", "json"]),
    )
    .action(async (_opts: unknown, command: Command) => {
      // `serve` has a --tokens of its own, and commander may hand the flag to it: read both levels.
      const opts = command.optsWithGlobals<{ scope: string[]; name?: string; tokens?: string; format?: string }>();
      const file = opts.tokens ?? DEFAULT_TOKENS;
      const { createToken } = await import("../../server/index.js");
      const { token, entry } = await createToken(file, {
        scopes: opts.scope,
        ...(opts.name ? { name: opts.name } : {}),
      });
      log(`added token "${entry.name}" (${entry.scopes.join(" ")}) to ${file}; it is shown only this once`);
      // The token is the data: printed as is (never scrubbed), in JSON too.
      if (opts.format === "json")
        printData(JSON.stringify({ schemaVersion: 1, token, name: entry.name, scopes: entry.scopes, file }, null, 2));
      else print(token);
    });
}
