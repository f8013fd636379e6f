// @module-tag e2e
// The README's "Use it in a service" examples, run as a user would: the Node service on the SDK, the shell
// service beside `strata agent`, and the Kubernetes and systemd files checked against the CLI.
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseAllDocuments } from "yaml";
import { cliPath, projectRoot, strata } from "../support/cli.js";
import { tempdir } from "../support/gitdir.js";
import { lacking } from "../support/shared.js";
import { cleanUpAfterEach, encryptSecrets, newAgeIdentity, startEndpoint, waitFor } from "./support.js";

const { endpoints, children } = cleanUpAfterEach();

const SECRET = "example-db-pa55word";
const config = (max: number) => ({ database: { host: "db.internal", pool: { max } }, http: { timeout_ms: 2500 } });

function run(
  cmd: string,
  args: string[],
  env: Record<string, string>,
): { child: ChildProcess; output: () => string; exited: Promise<number | null> } {
  const child = spawn(cmd, args, {
    cwd: projectRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  children.push(child);
  let out = "";
  child.stdout!.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr!.on("data", (d: Buffer) => (out += d.toString()));
  return { child, output: () => out, exited: new Promise((r) => child.once("exit", (code) => r(code))) };
}

describe("examples/service-node", () => {
  it("serves values from the SDK, follows a push, and exits by itself on SIGTERM", async () => {
    const ep = await startEndpoint();
    endpoints.push(ep);
    const age = await newAgeIdentity();
    await ep.publish(config(10), { secrets: await encryptSecrets({ database: { password: SECRET } }, age.recipient) });
    const svc = run(process.execPath, ["examples/service-node/server.mjs"], {
      STRATA_ENDPOINT: ep.url,
      STRATA_ENV: "staging",
      STRATA_TRUSTED_KEYS: ep.publicKey,
      STRATA_AGE_IDENTITY: age.identity,
      STRATA_CACHE_FILE: join(tempdir(), "cache.json"),
      PORT: "0",
    });
    const url = await waitFor(() => /listening on (http:\S+)/.exec(svc.output())?.[1], "the service to listen");
    expect(await (await fetch(url)).json()).toEqual({
      version: 1,
      host: "db.internal",
      poolMax: 10,
      hasPassword: true,
      timeoutMs: 2500,
    });
    await ep.publish(config(20), { secrets: await encryptSecrets({ database: { password: SECRET } }, age.recipient) });
    await waitFor(() => svc.output().includes("v2: database.pool.max 10 -> 20"), "the watch callback");
    expect(await (await fetch(url)).json()).toMatchObject({ version: 2, poolMax: 20 });
    svc.child.kill("SIGTERM");
    expect(await svc.exited).toBe(0);
    expect(svc.output()).not.toContain(SECRET);
  });
});

describe("examples/service-agent", () => {
  it("run.sh: the agent writes the file before the service starts, then reloads it on each push", async () => {
    const ep = await startEndpoint();
    endpoints.push(ep);
    await ep.publish(config(10));
    const svc = run("sh", ["examples/service-agent/run.sh"], {
      STRATA: `${process.execPath} ${cliPath}`,
      STRATA_ENDPOINT: ep.url,
      STRATA_TRUSTED_KEYS_FILE: ep.keysFile,
      CONFIG_DIR: tempdir(),
    });
    await waitFor(() => svc.output().includes("loaded: database db.internal, pool max 10"), "the first load");
    await ep.publish(config(20));
    await waitFor(
      () => svc.output().includes("loaded: database db.internal, pool max 20"),
      "the reload after the push",
    );
    svc.child.kill("SIGTERM");
    expect(await svc.exited).toBe(0);
  });

  it("kubernetes.yaml: an init container with --once and a sidecar share an emptyDir with the service; every flag exists", async () => {
    const docs = parseAllDocuments(
      readFileSync(join(projectRoot, "examples/service-agent/kubernetes.yaml"), "utf8"),
    ).map((d) => d.toJS() as Record<string, never>);
    expect(docs.map((d) => d.kind)).toEqual(["ConfigMap", "Secret", "Deployment"]);
    type Container = { name: string; args?: string[]; volumeMounts: { name: string; mountPath: string }[] };
    const spec = (
      docs[2] as unknown as {
        spec: {
          template: {
            spec: {
              initContainers: Container[];
              containers: Container[];
              volumes: { name: string; emptyDir?: object }[];
            };
          };
        };
      }
    ).spec.template.spec;
    const [init] = spec.initContainers;
    const sidecar = spec.containers.find((c) => c.name === "strata-agent")!;
    const service = spec.containers.find((c) => c.name === "checkout")!;
    expect(init!.args).toContain("--once");
    expect(sidecar.args).not.toContain("--once");
    const shared = spec.volumes.find((v) => v.emptyDir !== undefined)!.name;
    const mountOf = (c: Container): string => c.volumeMounts.find((m) => m.name === shared)!.mountPath;
    for (const c of [init!, sidecar]) expect(c.args).toContain(`--out=${mountOf(service)}/config.env`);
    expect(sidecar.args).toContain(`--pid-file=${mountOf(service)}/service.pid`);
    const help = (await strata(["agent", "--help"])).stdout;
    for (const arg of [...init!.args!, ...sidecar.args!]) expect(help).toContain(arg.split("=")[0]!);
  });

  const noSystemd = lacking("the systemd units", { tool: "systemd-analyze" });
  it.skipIf(noSystemd)(
    "the systemd units pass systemd-analyze verify (with this checkout's paths for the binaries)",
    async () => {
      const dir = tempdir("strata-systemd-");
      const units = ["checkout.service", "strata-agent.service"];
      const help = (await strata(["agent", "--help"])).stdout;
      for (const u of units) {
        const text = readFileSync(join(projectRoot, "examples/service-agent", u), "utf8");
        for (const flag of text.match(/ --[a-z-]+/g) ?? []) expect(help).toContain(flag.trim());
        // verify checks that each Exec binary exists: point them at this checkout's.
        writeFileSync(
          join(dir, u),
          text
            .replaceAll("/usr/local/bin/strata", cliPath)
            .replaceAll("/opt/checkout/service.sh", join(projectRoot, "examples/service-agent/service.sh")),
        );
      }
      const r = spawnSync("systemd-analyze", ["verify", ...units.map((u) => join(dir, u))], { encoding: "utf8" });
      expect(r.stderr).toBe("");
      expect(r.status).toBe(0);
    },
  );

  it("docs/runtime.md shows the Kubernetes manifest and the systemd units exactly as tested", () => {
    const doc = readFileSync(join(projectRoot, "docs/runtime.md"), "utf8");
    for (const f of ["kubernetes.yaml", "checkout.service", "strata-agent.service"])
      expect(doc).toContain(readFileSync(join(projectRoot, "examples/service-agent", f), "utf8"));
  });
});
