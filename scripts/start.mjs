#!/usr/bin/env node
// `npm start`: strata's main job on the example repository at the project root, end to end with the
// built CLI and no setup: validate every environment, show production-eu's effective config and where a
// few values come from, then start the embedded endpoint on a file store in a temporary directory, push
// every environment as signed snapshots, print what the endpoint serves and the dashboard's URL (kept up
// until Ctrl-C when run on a terminal). Builds dist/ first when it is missing or stale
// (scripts/ensure-built.mjs).
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ensureBuilt } from "./ensure-built.mjs";

ensureBuilt();

const root = fileURLToPath(new URL("..", import.meta.url));
const cli = fileURLToPath(new URL("../bin/strata.mjs", import.meta.url));
const keys = fileURLToPath(new URL("../examples/keys/", import.meta.url));
// The example's secrets and snapshots use keys committed for the example only (README: "The example
// repository"). Use them unless the caller brought their own.
const env = { ...process.env };
if (!env.SOPS_AGE_KEY && !env.SOPS_AGE_KEY_FILE && !env.SOPS_AGE_KEY_CMD)
  env.SOPS_AGE_KEY_FILE = join(keys, "EXAMPLE-ONLY-NOT-A-REAL-KEY.age.txt");
const signingKey = join(keys, "EXAMPLE-ONLY-NOT-A-REAL-SIGNING-KEY.pem");

const bold = process.env.NO_COLOR || !process.stdout.isTTY ? (s) => s : (s) => `\u001b[1m${s}\u001b[0m`;

function step(title, args) {
  process.stdout.write(`\n${bold(`$ strata ${args.join(" ")}`)}  # ${title}\n`);
  const r = spawnSync(process.execPath, [cli, ...args], { cwd: root, stdio: "inherit", env });
  if (r.status !== 0) {
    process.stderr.write(`strata ${args[0]} exited ${r.status}\n`);
    process.exitCode = r.status ?? 1;
    return false;
  }
  return true;
}

/** `strata serve` on loopback, port 0, a file store in a temp dir; resolves with its URL. */
function startEndpoint(storeDir) {
  const child = spawn(
    process.execPath,
    [cli, "serve", "--store", `file:${storeDir}`, "--listen", "127.0.0.1:0", "--repo", root],
    { cwd: root, env, stdio: ["ignore", "ignore", "pipe"] },
  );
  let log = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`strata serve did not start:\n${log}`)), 20_000);
    child.stderr.on("data", (d) => {
      log += d.toString();
      const m = /"msg":"listening","url":"([^"]+)"/.exec(log);
      if (m) {
        clearTimeout(timer);
        resolve({ url: m[1], child });
      }
    });
    child.once("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`strata serve exited ${code}:\n${log}`));
    });
  });
}

let ok =
  step("the environment tree", ["envs"]) &&
  step("validate every environment", ["validate"]) &&
  step("the effective config of production-eu (secrets decrypted, shown as <sensitive>)", [
    "resolve",
    "--env",
    "production-eu",
    "--redact",
  ]) &&
  step("where the EU database host comes from", ["explain", "--env", "production-eu", "database.host"]) &&
  step("an array merged by name across three layers", ["explain", "--env", "production-eu", "database.replicas"]) &&
  step("an interpolated value", ["explain", "--env", "production-eu", "database.url"]);

if (ok) {
  const storeDir = mkdtempSync(join(tmpdir(), "strata-start-store-"));
  let endpoint;
  try {
    process.stdout.write(
      `\n${bold("$ strata serve --store file:" + storeDir + " --listen 127.0.0.1:0")}  # the embedded endpoint (loopback, no tokens)\n`,
    );
    endpoint = await startEndpoint(storeDir);
    process.stdout.write(`listening on ${endpoint.url}\n`);
    const remote = ["--endpoint", endpoint.url];
    ok =
      step("sign and publish every environment (secrets encrypted to the services' age recipients)", [
        "push",
        "--all",
        ...remote,
        "--signing-key",
        signingKey,
      ]) &&
      step("pushing again publishes nothing: the content is unchanged", [
        "push",
        "--all",
        ...remote,
        "--signing-key",
        signingKey,
      ]) &&
      step("what the endpoint serves", ["status", ...remote]) &&
      step("the versions of production-eu", ["history", "--env", "production-eu", ...remote]);
    if (ok) {
      process.stdout.write(
        `\n${bold("Dashboard:")} ${endpoint.url}/ui/  (read-only: environments, history and diffs, fleet, audit; docs/dashboard.md)\n`,
      );
      // On a terminal, keep the endpoint up so the dashboard can be opened; in CI and pipes, stop here.
      if (process.stdout.isTTY && !process.env.CI) {
        process.stdout.write("Press Ctrl-C to stop the endpoint.\n");
        await new Promise((resolve) => process.once("SIGINT", resolve));
      }
    }
  } catch (e) {
    process.stderr.write(`${e.message}\n`);
    process.exitCode = 1;
    ok = false;
  } finally {
    // Ctrl-C on a terminal reaches the endpoint too: it may have stopped already.
    const running = endpoint && endpoint.child.exitCode === null && endpoint.child.signalCode === null;
    if (running) endpoint.child.kill("SIGTERM");
    await new Promise((r) => (running ? endpoint.child.once("exit", r) : r()));
    rmSync(storeDir, { recursive: true, force: true });
  }
}
if (ok) process.stdout.write("\nAll environments are valid and published. Next: `npm test`, or `strata --help`.\n");
