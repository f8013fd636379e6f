// @module-tag e2e
// `strata agent` in a rollout run by the real `strata serve`: --rollout-keys makes it follow the signed plan
// (its files hold its cohort's version), its local POST /report takes the service's counts and forwards them
// in batches (they reach the rollout's cohort totals), and /metrics exports strata_config_version.
import { spawn, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import type { RolloutStatusDocument } from "../../src/core/protocol/index.js";
import { cohortPosition } from "../../src/core/rollout/cohort.js";
import { versionFor, type RolloutPlan } from "../../src/core/rollout/plan.js";
import { cliPath, projectRoot } from "../support/cli.js";
import { tempdir } from "../support/gitdir.js";
import { spawnServe, type ServeProcess } from "../support/serve.js";
import { waitFor } from "../client/support.js";
import { publisher, push, rolloutKey, strataYaml, version } from "../server/rollout-support.js";

const servers: ServeProcess[] = [];
const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode !== null || c.signalCode !== null) continue;
    c.kill("SIGKILL");
    await new Promise((r) => c.once("exit", r));
  }
  for (const s of servers.splice(0)) await s.stop("SIGKILL");
});

/** Polls an async probe until it holds (a real signal: the agent's metrics, the server's status). */
async function until(probe: () => Promise<boolean>, what: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await probe())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function agent(args: string[]): { child: ChildProcess; log: () => string } {
  const child = spawn(process.execPath, [cliPath, "agent", ...args], {
    cwd: projectRoot,
    env: { ...process.env, NO_COLOR: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let log = "";
  child.stderr!.on("data", (d: Buffer) => (log += d.toString()));
  child.stdout!.on("data", (d: Buffer) => (log += d.toString()));
  return { child, log: () => log };
}

describe("strata agent --rollout-keys", () => {
  it("writes its cohort's version, forwards POST /report to the rollout, exports strata_config_version", async () => {
    const dir = tempdir("strata-agent-rollout-");
    writeFileSync(join(dir, "strata.yaml"), strataYaml(["canary: { percent: 50, bake: 1h }"]));
    writeFileSync(join(dir, "rollout.pem"), rolloutKey.pem, { mode: 0o600 });
    writeFileSync(join(dir, "trusted.txt"), `${publisher.key.publicKey.text}\n`);
    writeFileSync(join(dir, "rollout-keys.txt"), `${rolloutKey.key.publicKey.text}\n`);
    const s = await spawnServe([
      "--store",
      `file:${join(dir, "store")}`,
      "--repo",
      dir,
      "--rollout-key",
      join(dir, "rollout.pem"),
    ]);
    servers.push(s);
    const v1 = version(1, null);
    expect((await push(s.url, v1)).status).toBe(201);

    // Two agents: one whose instance lands in the candidate half of the rollout, one in the stable half.
    const agents = ["side-a", "side-b"].map((instance) => {
      const out = join(dir, `${instance}.json`);
      const a = agent([
        "--endpoint",
        s.url,
        "--env",
        "staging",
        "--service",
        "sidecar",
        "--instance",
        instance,
        "--out",
        out,
        "--trusted-keys",
        join(dir, "trusted.txt"),
        "--rollout-keys",
        join(dir, "rollout-keys.txt"),
        "--health",
        "127.0.0.1:0",
      ]);
      return { instance, out, ...a };
    });
    const health = await Promise.all(
      agents.map((a) =>
        waitFor(() => /"msg":"health endpoint listening","url":"([^"]+)"/.exec(a.log())?.[1], "the health endpoint"),
      ),
    );
    const metrics = (i: number): Promise<string> => fetch(`${health[i]}/metrics`).then((r) => r.text());
    expect(await metrics(0)).toContain('strata_config_version{environment="staging",service="sidecar"} 1\n');

    expect((await push(s.url, version(2, v1))).status).toBe(201);
    const plan = JSON.parse(await (await fetch(`${s.url}/v1/environments/staging/plan`)).text()) as RolloutPlan;
    const roles = agents.map((a) => versionFor(plan, { instance: a.instance }).role);
    // The server calibrates on the fleet it knows (these two): one of each.
    expect(new Set(roles)).toEqual(new Set(["candidate", "stable"]));
    expect(cohortPosition(plan.rollout, { instance: "side-a" })).not.toBe(
      cohortPosition(plan.rollout, { instance: "side-b" }),
    );
    for (const [i, a] of agents.entries()) {
      const want = roles[i] === "candidate" ? 2 : 1;
      await until(
        async () =>
          (await metrics(i)).includes(`strata_config_version{environment="staging",service="sidecar"} ${want}\n`),
        `${a.instance} on v${want}`,
      );
      // The file follows the client (written after its change event).
      await until(
        async () => (JSON.parse(readFileSync(a.out, "utf8")) as { app: { release: number } }).app.release === want,
        `${a.out} at v${want}`,
      );
    }
    // The stable agent never wrote the candidate.
    const stable = agents[roles.indexOf("stable")]!;
    expect(stable.log()).not.toMatch(/"msg":"wrote the configuration","version":2/);

    // The service's counts, through the agent's local endpoint.
    const post = (i: number, body: unknown, method = "POST"): Promise<Response> =>
      fetch(`${health[i]}/report`, {
        method,
        headers: { "content-type": "application/json" },
        ...(method === "POST" ? { body: typeof body === "string" ? body : JSON.stringify(body) } : {}),
      });
    for (const i of [0, 1]) expect((await post(i, { requests: 20, errors: 2, latencyMs: [3, 4] })).status).toBe(204);
    const bad = await post(0, { requests: 1, errors: 2 });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toMatch(/0 ≤ errors ≤ requests/);
    expect((await post(0, { requests: 1, extra: 1 })).status).toBe(400);
    expect((await post(0, "not json")).status).toBe(400);
    expect((await post(0, null, "GET")).status).toBe(405);
    await until(async () => {
      const st = (await (await fetch(`${s.url}/v1/environments/staging/rollout`)).json()) as RolloutStatusDocument;
      return st.cohorts.candidate?.requests === 20 && st.cohorts.stable?.requests === 20;
    }, "both agents' reports in the rollout's totals");
    expect(await metrics(0)).toMatch(/strata_agent_report_batches_total\{outcome="sent"\} [1-9]/);
    expect(await metrics(0)).toMatch(/strata_agent_reports_refused_total 4\n/);
  });
});
