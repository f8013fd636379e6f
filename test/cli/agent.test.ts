// @module-tag e2e
// `strata agent` end to end: the built CLI against the real `strata serve`.
import { spawn, type ChildProcess } from "node:child_process";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
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
  waitForAsync,
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
  it("refuses a snapshot that expired (exit 4, nothing written); --allow-expired takes it", async () => {
    const ep = await endpoint();
    const day = 24 * 3600 * 1000;
    await ep.publish(config(1) as never, {
      createdAt: new Date(Date.now() - 372 * day),
      expiresAt: new Date(Date.now() - 365 * day),
    });
    const out = join(tempdir(), "config.json");
    const args = ["agent", "--endpoint", ep.url, "--env", "staging", "--trusted-keys", keysFile(ep), "--out", out];
    const refused = await strata([...args, "--once"]);
    expect(refused.exitCode, refused.stderr).toBe(4);
    expect(refused.stderr).toMatch(/\[invalid-snapshot\].* expired at /);
    expect(refused.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
    const taken = await strata([...args, "--once", "--allow-expired"]);
    expect(taken.exitCode, taken.stderr).toBe(0);
    expect(JSON.parse(readFileSync(out, "utf8"))).toMatchObject({ app: { counter: 1 } });
  });

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
    expect(readFileSync(env, "utf8")).toContain(`DATABASE_POOL_MAX=11\n`);
    expect(readFileSync(env, "utf8")).toContain(`APP_TAGS=["a","b"]\n`);
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

  it("takes the trusted keys from the configuration repository named by --repo (signing.trusted_keys)", async () => {
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
    const r = await strata(
      ["agent", "--endpoint", byRepo.url, "--env", "staging", "--repo", projectRoot, "--out", out, "--once"],
      {
        env: { SOPS_AGE_KEY_FILE: join(projectRoot, "examples/keys/EXAMPLE-ONLY-NOT-A-REAL-KEY.runtime.age.txt") },
      },
    );
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
    // The endpoint hears which version runs from the agent's next request, which a client spreads over a
    // couple of seconds after a switch (so that a fleet switching together does not confirm at once).
    await waitForAsync(async () => {
      const status = (await (await fetch(`${ep.url}/v1/status`)).json()) as {
        clients: { service: string; instance: string; version: number }[];
      };
      return status.clients.some((c) => c.service === "sidecar" && c.instance === "a-1" && c.version === 101);
    }, "the endpoint's record of the agent running v101");

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

/** A minimal configuration repository whose strata.yaml trusts `publicKey`. */
function plantRepository(dir: string, publicKey: string): void {
  writeFileSync(
    join(dir, "strata.yaml"),
    `version: 1\nenvironments:\n  staging: {}\nsigning:\n  trusted_keys: ["${publicKey}"]\n`,
  );
}

describe("strata agent: where trust comes from", () => {
  it("never takes trusted keys from a strata.yaml in a parent directory: --trusted-keys or an explicit --repo", async () => {
    const ep = await endpoint();
    await ep.publish(config(1) as never);
    // Another user planted a strata.yaml trusting the endpoint's key in a parent of the working directory.
    const planted = tempdir();
    plantRepository(planted, ep.publicKey);
    const cwd = join(planted, "work");
    mkdirSync(cwd);
    const out = join(tempdir(), "config.json");
    const walked = await strata(["agent", "--endpoint", ep.url, "--env", "staging", "--out", out, "--once"], { cwd });
    expect(walked.exitCode, walked.stderr).toBe(2);
    expect(walked.stderr).toContain("[invalid-argument]");
    expect(walked.stderr).toContain("--trusted-keys");
    expect(walked.stderr).not.toMatch(/\n\s+at /);
    expect(existsSync(out)).toBe(false);
    // Not even through an explicit --repo: it names the repository's root, not a directory below it.
    const below = await strata([
      "agent",
      "--endpoint",
      ep.url,
      "--env",
      "staging",
      "--repo",
      cwd,
      "--out",
      out,
      "--once",
    ]);
    expect(below.exitCode, below.stderr).toBe(2);
    expect(below.stderr).toContain(join(cwd, "strata.yaml"));
    expect(existsSync(out)).toBe(false);
    // The repository named explicitly is trusted.
    const named = await strata(
      ["agent", "--endpoint", ep.url, "--env", "staging", "--repo", planted, "--out", out, "--once"],
      { cwd },
    );
    expect(named.exitCode, named.stderr).toBe(0);
    expect(existsSync(out)).toBe(true);
  });
});

describe("strata agent: output files", () => {
  const flags = (ep: Endpoint, ...rest: string[]): string[] => [
    "--endpoint",
    ep.url,
    "--env",
    "staging",
    "--trusted-keys",
    keysFile(ep),
    ...rest,
  ];

  it("creates a missing output directory (0700) in --once and sidecar mode", async () => {
    const ep = await endpoint();
    await ep.publish(config(1) as never);
    const base = tempdir();
    const once = join(base, "init", "deep", "config.json");
    const r = await strata(["agent", ...flags(ep, "--out", once, "--once")]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(JSON.parse(readFileSync(once, "utf8"))).toMatchObject({ app: { counter: 1 } });
    expect(statSync(join(base, "init")).mode & 0o777).toBe(0o700);
    expect(statSync(join(base, "init", "deep")).mode & 0o777).toBe(0o700);

    const sidecarOut = join(base, "sidecar", "config.json");
    const agent = startAgentProcess(flags(ep, "--out", sidecarOut));
    await waitFor(() => existsSync(sidecarOut), "the first write");
    expect(statSync(join(base, "sidecar")).mode & 0o777).toBe(0o700);
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
  });

  it("refuses an output whose directory cannot be made, naming it (exit 2, no stack trace), in --once and sidecar mode", async () => {
    const ep = await endpoint();
    await ep.publish(config(1) as never);
    const base = tempdir();
    writeFileSync(join(base, "a-file"), "");
    const out = join(base, "a-file", "config.json");
    const once = await strata(["agent", ...flags(ep, "--out", out, "--once")]);
    expect(once.exitCode, once.stderr).toBe(2);
    expect(once.stderr).toContain(out);
    expect(once.stderr).not.toContain("internal error");
    expect(once.stderr).not.toMatch(/\n\s+at /);
    const sidecar = startAgentProcess(flags(ep, "--out", out));
    expect(await sidecar.exited).toBe(2);
    expect(sidecar.stderr()).toContain(out);
    expect(sidecar.stderr()).not.toMatch(/\n\s+at /);
  });

  it("never writes through a link that leads out of the output's directory", async () => {
    const ep = await endpoint();
    await ep.publish(config(1) as never);
    const outside = join(tempdir(), "victim.txt");
    writeFileSync(outside, "precious\n");
    const dir = tempdir();
    const out = join(dir, "config.json");
    symlinkSync(outside, out);
    const r = await strata(["agent", ...flags(ep, "--out", out, "--once")]);
    expect(r.exitCode, r.stderr).toBe(2);
    expect(r.stderr).toContain("link");
    expect(r.stderr).not.toMatch(/\n\s+at /);
    expect(readFileSync(outside, "utf8")).toBe("precious\n");
    expect(lstatSync(out).isSymbolicLink()).toBe(true);
  });

  it("writes dotenv verbatim (docker, kubectl), env shell-quoted, and refuses two keys of one variable name", async () => {
    const ep = await endpoint();
    await ep.publish({ app: { name: "it's", empty: null, tags: ["a"] }, database: { pool: { max: 10 } } } as never);
    const dir = tempdir();
    const dotenv = join(dir, "app.env");
    const env = join(dir, "app.sh");
    const r = await strata(["agent", ...flags(ep, "--out", dotenv, "--once")]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(readFileSync(dotenv, "utf8")).toBe('APP_EMPTY=null\nAPP_NAME=it\'s\nAPP_TAGS=["a"]\nDATABASE_POOL_MAX=10\n');
    const sh = await strata(["agent", ...flags(ep, "--out", env, "--format", "env", "--once")]);
    expect(sh.exitCode, sh.stderr).toBe(0);
    expect(readFileSync(env, "utf8")).toContain("APP_NAME='it'\\''s'\n");

    // Two keys of one variable name: the file is refused, the last good one kept (sidecar), nothing at start (--once).
    const agent = startAgentProcess(flags(ep, "--out", dotenv, "--health", "127.0.0.1:0"));
    const healthUrl = await waitFor(() => /"url":"(http:[^"]+)"/.exec(agent.stderr())?.[1], "the health endpoint");
    const good = readFileSync(dotenv, "utf8");
    await ep.publish({ app: { name: "x" }, database: { pool: { max: 11 } }, "database-pool": { max: 99 } } as never);
    await waitFor(() => agent.stderr().includes("both become the variable"), "the refusal");
    expect(readFileSync(dotenv, "utf8")).toBe(good);
    expect(await (await fetch(`${healthUrl}/metrics`)).text()).toMatch(/strata_agent_render_refusals_total 1\n/);
    agent.child.kill("SIGTERM");
    expect(await agent.exited).toBe(0);
    const fresh = join(dir, "fresh.env");
    const refused = await strata(["agent", ...flags(ep, "--out", fresh, "--once")]);
    expect(refused.exitCode, refused.stderr).toBe(1);
    expect(refused.stderr).toContain("DATABASE_POOL_MAX");
    expect(refused.stderr).not.toContain("99");
    expect(existsSync(fresh)).toBe(false);
  });
});

describe("strata status: clients refusing a snapshot", () => {
  interface StatusClient {
    service: string;
    instance: string;
    version: number;
    state: string;
    rejected: { version: number; reason: string; at: string } | null;
  }
  const statusOf = async (ep: Endpoint): Promise<{ json: { clients: StatusClient[] }; text: string }> => {
    const json = await strata(["status", "--endpoint", ep.url, "--format", "json"]);
    const text = await strata(["status", "--endpoint", ep.url]);
    expect(json.exitCode, json.stderr).toBe(0);
    expect(text.exitCode, text.stderr).toBe(0);
    return { json: JSON.parse(json.stdout) as { clients: StatusClient[] }, text: text.stdout };
  };

  it("shows an agent that failed at start with its reason, not as v0 (the agent reports before it exits 4)", async () => {
    const ep = await endpoint();
    await ep.publish(config(1) as never);
    const otherKeys = join(tempdir(), "keys.txt");
    writeFileSync(otherKeys, newKey().key.publicKey.text + "\n");
    const out = join(tempdir(), "config.json");
    const r = await strata([
      "agent",
      "--endpoint",
      ep.url,
      "--env",
      "staging",
      "--trusted-keys",
      otherKeys,
      "--out",
      out,
      "--once",
      "--service",
      "checkout",
      "--instance",
      "pod-7",
    ]);
    expect(r.exitCode, r.stderr).toBe(4);
    const { json, text } = await statusOf(ep);
    expect(json.clients).toEqual([
      expect.objectContaining({
        service: "checkout",
        instance: "pod-7",
        version: 0,
        state: "failed",
        rejected: expect.objectContaining({ version: 1, reason: "invalid-signature" }) as unknown,
      }),
    ]);
    const line = text.split("\n").find((l) => l.includes("checkout/pod-7"))!;
    expect(line).toContain("FAILED AT START: refused v1 (invalid-signature)");
    expect(line).not.toMatch(/: v0\b/);
  });

  it("shows a client refusing the current version now (version, code, since), and forgets it once a later one is accepted", async () => {
    const ep = await endpoint();
    await ep.publish(config(1) as never);
    await ep.publish(config(2) as never);
    // What an SDK on v1 that refused v2 sends with its next read (the header of the protocol module).
    const read = (header: string): Promise<Response> =>
      fetch(`${ep.url}/v1/environments/staging/snapshot`, { method: "HEAD", headers: { "strata-client": header } });
    await read("service=api; instance=i-1; version=1; kind=sdk; rejected=2; reason=digest-mismatch");
    await read("service=api; instance=i-2; version=2; kind=sdk");
    let { json, text } = await statusOf(ep);
    expect(json.clients.map((c) => [c.instance, c.state])).toEqual([
      ["i-1", "refusing"],
      ["i-2", "running"],
    ]);
    expect(text).toMatch(/api\/i-1 \[sdk\]: v1, REFUSING v2 \(digest-mismatch\) since \d+s/);
    expect(text).toMatch(/staging: v2, .*1 refusing/);
    // It accepted v3 later: it refused v2 once, it is not refusing now.
    await ep.publish(config(3) as never);
    await read("service=api; instance=i-1; version=3; kind=sdk; rejected=2; reason=digest-mismatch");
    ({ json, text } = await statusOf(ep));
    expect(json.clients.find((c) => c.instance === "i-1")).toMatchObject({ state: "running", version: 3 });
    expect(text).not.toContain("REFUSING");
    expect(text).toMatch(/api\/i-1 \[sdk\]: v3.*refused v2 \(digest-mismatch\)/);
    // A new process under the same instance name that refused nothing: no rejection shown.
    await read("service=api; instance=i-1; version=3; kind=sdk");
    ({ json } = await statusOf(ep));
    expect(json.clients.find((c) => c.instance === "i-1")!.rejected).toBeNull();
  });
});
