// @module-tag e2e
// `strata agent` end to end: the built CLI against the real `strata serve`.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cliPath, projectRoot, strata } from "../support/cli.js";
import { tempdir } from "../support/gitdir.js";
import { newKey } from "../support/snapshots.js";
import {
  cleanUpAfterEach,
  encryptSecrets,
  newAgeIdentity,
  startEndpoint,
  waitFor,
  type Endpoint,
} from "../client/support.js";

const { endpoints, children } = cleanUpAfterEach();

async function endpoint(): Promise<Endpoint> {
  const ep = await startEndpoint();
  endpoints.push(ep);
  return ep;
}

function keysFile(ep: Endpoint): string {
  return ep.keysFile;
}

const SECRET = "ag3nt-s3cr3t-value-91c";
const config = (n: number): Record<string, Record<string, unknown>> =>
  ({
    app: { name: "demo", counter: n, tags: ["a", "b"] },
    database: { host: "db.internal", pool: { max: 10 + n } },
  }) as never;

interface Agent {
  child: ChildProcess;
  stderr: () => string;
  exited: Promise<number | null>;
}

function startAgentProcess(args: string[], env: Record<string, string> = {}): Agent {
  const child = spawn(process.execPath, [cliPath, "agent", ...args], {
    cwd: projectRoot,
    env: { ...process.env, NO_COLOR: "1", ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let err = "";
  let out = "";
  child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
  return { child, stderr: () => err + out, exited };
}

describe("strata agent --once (an init container)", () => {
  it("writes the verified config with secrets decrypted, mode 0600, and exits 0", async () => {
    const ep = await endpoint();
    const age = await newAgeIdentity();
    await ep.publish(config(1) as never, {
      secrets: await encryptSecrets({ database: { password: SECRET } }, age.recipient),
    });
    const dir = tempdir();
    const identity = join(dir, "id.txt");
    writeFileSync(identity, age.identity + "\n", { mode: 0o600 });
    const out = join(dir, "config.json");
    const env = join(dir, "config.env");
    const r = await strata([
      "agent",
      "--endpoint",
      ep.url,
      "--env",
      "staging",
      "--trusted-keys",
      keysFile(ep),
      "--identity",
      identity,
      "--out",
      out,
      "--out",
      env,
      "--out",
      join(dir, "ns-{namespace}.yaml"),
      "--once",
    ]);
    expect(r.exitCode, r.stderr).toBe(0);
    const written = JSON.parse(readFileSync(out, "utf8")) as { database: { password: string; pool: { max: number } } };
    expect(written.database.password).toBe(SECRET);
    expect(written.database.pool.max).toBe(11);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(readFileSync(env, "utf8")).toContain(`DATABASE_POOL_MAX='11'\n`);
    expect(readFileSync(env, "utf8")).toContain(`APP_TAGS='["a","b"]'\n`);
    expect(readFileSync(join(dir, "ns-app.yaml"), "utf8")).toContain("counter: 1\n");
    expect(readFileSync(join(dir, "ns-database.yaml"), "utf8")).toContain("max: 11\n");
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(ep.process!.stderr()).not.toContain(SECRET);
  });

  it("exits non-zero with nothing written when verification fails (4: untrusted signer; 3: secrets it cannot open)", async () => {
    const ep = await endpoint();
    const age = await newAgeIdentity();
    await ep.publish(config(1) as never, {
      secrets: await encryptSecrets({ database: { password: SECRET } }, age.recipient),
    });
    const dir = tempdir();
    const otherKeys = join(dir, "keys.txt");
    writeFileSync(otherKeys, newKey().key.publicKey.text + "\n");
    const out = join(dir, "config.json");
    const untrusted = await strata(
      ["agent", "--endpoint", ep.url, "--env", "staging", "--trusted-keys", otherKeys, "--out", out, "--once"],
      { env: { SOPS_AGE_KEY: age.identity } },
    );
    expect(untrusted.exitCode).toBe(4);
    expect(untrusted.stderr).toContain("[invalid-signature]");
    expect(untrusted.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);

    const stranger = await newAgeIdentity();
    const noKey = await strata(
      ["agent", "--endpoint", ep.url, "--env", "staging", "--trusted-keys", keysFile(ep), "--out", out, "--once"],
      { env: { SOPS_AGE_KEY: stranger.identity } },
    );
    expect(noKey.exitCode).toBe(3);
    expect(noKey.stderr).toContain("[decryption-failed]");
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(dir)).toEqual(["keys.txt"]);
  });

  it("exits 4 naming the endpoint when it cannot be reached and there is no cache; 2 on bad flags", async () => {
    const ep = await endpoint();
    await ep.stop();
    const dir = tempdir();
    const out = join(dir, "config.json");
    const r = await strata([
      "agent",
      "--endpoint",
      ep.url,
      "--env",
      "staging",
      "--trusted-keys",
      keysFile(ep),
      "--out",
      out,
      "--once",
      "--timeout",
      "300",
    ]);
    expect(r.exitCode).toBe(4);
    expect(r.stderr).toContain(`[unreachable]`);
    expect(r.stderr).toContain(ep.url);
    expect(existsSync(out)).toBe(false);
    const bad = await strata([
      "agent",
      "--endpoint",
      ep.url,
      "--env",
      "staging",
      "--trusted-keys",
      keysFile(ep),
      "--out",
      out,
      "--exec",
      "true",
      "--signal",
      "HUP",
      "--pid-file",
      "x",
    ]);
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain("exclusive");
  });

  it("takes the trusted keys from the configuration repository it runs in (signing.trusted_keys)", async () => {
    // The example repository's key signs; strata's root is that repository.
    const pem = readFileSync(join(projectRoot, "examples/keys/EXAMPLE-ONLY-NOT-A-REAL-SIGNING-KEY.pem"), "utf8");
    const serve = await import("../support/serve.js");
    const byRepo = await serve.spawnServe(["--store", `file:${tempdir()}`, "--repo", projectRoot]);
    children.push(byRepo.child);
    const push = await strata(["push", "--env", "staging", "--endpoint", byRepo.url], {
      env: {
        STRATA_SIGNING_KEY: pem,
        SOPS_AGE_KEY_FILE: join(projectRoot, "examples/keys/EXAMPLE-ONLY-NOT-A-REAL-KEY.age.txt"),
      },
    });
    expect(push.exitCode, push.stderr).toBe(0);
    const out = join(tempdir(), "config.json");
    const r = await strata(["agent", "--endpoint", byRepo.url, "--env", "staging", "--out", out, "--once"], {
      env: { SOPS_AGE_KEY_FILE: join(projectRoot, "examples/keys/EXAMPLE-ONLY-NOT-A-REAL-KEY.runtime.age.txt") },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const written = JSON.parse(readFileSync(out, "utf8")) as { database: { host: string; password: string } };
    expect(written.database.host).toContain("staging");
    // The secrets of a snapshot `strata push` built open with their MAC checked (a published snapshot's own MAC verifies).
    const plain = await strata(
      ["secrets", "decrypt", "--extract", '["password"]', "environments/staging/database.sops.yaml"],
      { env: { SOPS_AGE_KEY_FILE: join(projectRoot, "examples/keys/EXAMPLE-ONLY-NOT-A-REAL-KEY.age.txt") } },
    );
    expect(plain.exitCode, plain.stderr).toBe(0);
    expect(written.database.password).toBe(plain.stdout.replace(/\n$/, ""));
    expect(r.stderr).not.toContain(written.database.password);
  });
});

describe("strata agent (a sidecar)", () => {
  it("keeps the file complete for a reader polling it during 100 pushes, runs --exec once per change, serves health and metrics", async () => {
    const ep = await endpoint();
    await ep.publish(config(0) as never);
    const dir = tempdir();
    const out = join(dir, "config.json");
    const execLog = join(dir, "exec.log");
    const agent = startAgentProcess([
      "--endpoint",
      ep.url,
      "--env",
      "staging",
      "--trusted-keys",
      keysFile(ep),
      "--out",
      out,
      "--health",
      "127.0.0.1:0",
      "--service",
      "sidecar",
      "--instance",
      "a-1",
      // The command sees the complete new file: it appends the counter it reads to its log.
      "--exec",
      `node -e 'const fs=require("fs");const c=JSON.parse(fs.readFileSync(process.argv[1],"utf8"));fs.appendFileSync(process.argv[2], process.env.STRATA_VERSION+" "+c.app.counter+"\\n")' ${out} ${execLog}`,
    ]);
    await waitFor(() => existsSync(out), "the first write");
    const healthUrl = await waitFor(() => /"url":"(http:[^"]+)"/.exec(agent.stderr())?.[1], "the health endpoint");

    // A reader in another process re-reads and parses the file as fast as it can until told to stop.
    const stopFile = join(dir, "stop");
    const reader = spawn(
      process.execPath,
      [
        "-e",
        `
      const fs = require("fs"); let reads = 0, bad = 0, last = -1, backwards = 0;
      while (!fs.existsSync(process.argv[2])) {
        try { const c = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); if (c.app.counter < last) backwards++; last = c.app.counter; } catch { bad++; }
        reads++;
      }
      console.log(JSON.stringify({ reads, bad, backwards, last }));
    `,
        out,
        stopFile,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    children.push(reader);
    let readerOut = "";
    reader.stdout.on("data", (d: Buffer) => (readerOut += d.toString()));
    const readerDone = new Promise((r) => reader.once("exit", r));

    for (let i = 1; i <= 100; i++) await ep.publish(config(i) as never);
    await waitFor(
      () => (existsSync(execLog) ? readFileSync(execLog, "utf8") : "").trim().endsWith(" 100"),
      "the exec run for the last push",
      60_000,
    );
    writeFileSync(stopFile, "");
    await readerDone;
    const result = JSON.parse(readerOut) as { reads: number; bad: number; backwards: number; last: number };
    expect(result.bad).toBe(0);
    expect(result.backwards).toBe(0);
    expect(result.reads).toBeGreaterThan(100);
    expect(result.last).toBe(100);

    // One run per change: each run saw its own version's file, none twice, in order.
    const runs = readFileSync(execLog, "utf8")
      .trim()
      .split("\n")
      .map((l) => l.split(" ").map(Number) as [number, number]);
    for (const [version, counter] of runs) expect(counter).toBe(version - 1);
    expect(new Set(runs.map(([v]) => v)).size).toBe(runs.length);
    expect(runs.map(([v]) => v)).toEqual([...runs.map(([v]) => v)].sort((a, b) => a - b));
    const writes = agent
      .stderr()
      .split("\n")
      .filter((l) => l.includes('"msg":"wrote the configuration"')).length;
    expect(runs.length).toBe(writes - 1);

    const health = (await (await fetch(`${healthUrl}/healthz`)).json()) as { status: string; version: number };
    expect(health).toMatchObject({ status: "ok", version: 101 });
    const metrics = await (await fetch(`${healthUrl}/metrics`)).text();
    expect(metrics).toContain("strata_agent_version 101\n");
    expect(metrics).toMatch(/strata_agent_exec_total \d+\n/);
    const status = (await (await fetch(`${ep.url}/v1/status`)).json()) as {
      clients: { service: string; instance: string; version: number }[];
    };
    expect(status.clients).toEqual(
      expect.arrayContaining([expect.objectContaining({ service: "sidecar", instance: "a-1", version: 101 })]),
    );

    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
  });

  it("signals the process in --pid-file on each change", async () => {
    const ep = await endpoint();
    await ep.publish(config(0) as never);
    const dir = tempdir();
    const out = join(dir, "config.json");
    const got = join(dir, "got");
    const pidFile = join(dir, "svc.pid");
    const svc = spawn(
      process.execPath,
      [
        "-e",
        `require("fs").writeFileSync(process.argv[1], String(process.pid)); process.on("SIGHUP", () => require("fs").appendFileSync(process.argv[2], "hup\\n")); setInterval(() => {}, 1000);`,
        pidFile,
        got,
      ],
      { stdio: "ignore" },
    );
    children.push(svc);
    await waitFor(() => existsSync(pidFile), "the service's pid file");
    const agent = startAgentProcess([
      "--endpoint",
      ep.url,
      "--env",
      "staging",
      "--trusted-keys",
      keysFile(ep),
      "--out",
      out,
      "--signal",
      "SIGHUP",
      "--pid-file",
      pidFile,
    ]);
    await waitFor(() => existsSync(out), "the first write");
    await ep.publish(config(1) as never);
    await waitFor(() => existsSync(got) && readFileSync(got, "utf8") === "hup\n", "SIGHUP");
    expect((JSON.parse(readFileSync(out, "utf8")) as { app: { counter: number } }).app.counter).toBe(1);
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
  });
});
