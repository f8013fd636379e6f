import type { Command } from "commander";
import { isStrataError, StrataError } from "../../core/findings.js";
import { log, print, printData } from "../output.js";
import { attachAction, attachCommand } from "../spec.js";
import { serveCommand, serveTokenCommand, serveTokenCreateCommand } from "../table.js";

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
  attachAction(program, serveCommand, async (opts) => {
    const { runServe, readTokens, createJsonLogger } = await import("../../server/index.js");
    // One structured log stream on stderr for the server and for what happens around it.
    const jsonLog = createJsonLogger({ level: opts.logLevel });
    const limits = {
      ...(opts.maxConnections !== undefined ? { maxConnections: opts.maxConnections } : {}),
      ...(opts.maxConnectionsPerClient !== undefined ? { maxConnectionsPerAddress: opts.maxConnectionsPerClient } : {}),
    };
    const server = await runServe({ ...opts, limits, log: jsonLog }).catch((e: unknown) => {
      throw listenHint(e);
    });
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
            (e: unknown) => jsonLog("error", "kept the old tokens", { file: tokensFile, error: (e as Error).message }),
          );
        });
      }
    });
  });

  attachCommand(program, serveTokenCommand);
  // `serve` has a --tokens of its own, and commander may hand the flag to it: attachAction reads both levels.
  attachAction(program, serveTokenCreateCommand, async (opts) => {
    const file = opts.tokens;
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
