// @module-tag e2e
// The SDK as a service sees it: imported by package name from a separate process, it loads without the
// CLI, server or GitHub code and their dependencies, and after close() the process exits by itself.
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { projectRoot } from "../support/cli.js";
import { tempdir } from "../support/gitdir.js";
import { startEndpoint, type Endpoint } from "./support.js";

const endpoints: Endpoint[] = [];
afterEach(async () => {
  for (const e of endpoints.splice(0)) await e.stop();
});

function run(
  args: string[],
  env: Record<string, string> = {},
  killAfterMs = 20_000,
  onStdout: (stdout: string) => void = () => undefined,
): Promise<{ code: number | null; signal: string | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, {
      cwd: projectRoot,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d: Buffer) => onStdout((stdout += d.toString())));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    // A safety net, not a timing assertion: a process kept alive by a leaked handle would hang the suite.
    const guard = setTimeout(() => child.kill("SIGKILL"), killAfterMs);
    child.once("exit", (code, signal) => {
      clearTimeout(guard);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

// Packages only the CLI, server or GitHub code use: the SDK must load with them absent.
const FORBIDDEN = ["commander", "@octokit/", "etcd3", "execa", "chalk", "ora", "@aws-sdk/", "ajv", "yaml"];

describe("the strata-config/client package entry", () => {
  it("imports only src/core, its own modules and the atomic writer, and loads with the CLI/server/GitHub packages unresolvable", async () => {
    const dir = tempdir("strata-sdk-graph-");
    const hooks = join(dir, "hooks.mjs");
    writeFileSync(
      hooks,
      `
const forbidden = ${JSON.stringify(FORBIDDEN)};
export async function resolve(specifier, context, next) {
  if (forbidden.some((f) => specifier === f || specifier.startsWith(f.endsWith("/") ? f : f + "/"))) throw new Error("forbidden import: " + specifier);
  const r = await next(specifier, context);
  process.stdout.write("RESOLVED " + r.url + "\\n");
  return r;
}`,
    );
    const register = join(dir, "register.mjs");
    writeFileSync(
      register,
      `import { register } from "node:module"; import { pathToFileURL } from "node:url"; register(pathToFileURL(${JSON.stringify(hooks)}));`,
    );
    // In the project root, so that the package resolves itself by name through package.json exports.
    const selfRef = join(projectRoot, `.sdk-graph-${process.pid}.mjs`);
    writeFileSync(
      selfRef,
      `const m = await import("strata-config/client"); console.log("EXPORTS " + Object.keys(m).sort().join(","));`,
    );
    try {
      const r = await run(["--import", register, selfRef]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("EXPORTS REJECTION_CODES,StrataClient,StrataClientError,createClient,isRejection");
      const urls = [...r.stdout.matchAll(/^RESOLVED (.+)$/gm)].map((m) => m[1]!);
      const dist = urls.filter((u) => u.includes("/dist/")).map((u) => u.slice(u.indexOf("/dist/") + 1));
      expect(dist.length).toBeGreaterThan(3);
      // client and core, and the one atomic writer (it imports only node:*) for the cache file.
      for (const f of dist) expect(f).toMatch(/^dist\/(client\/|core\/|io\/fs\/write-atomic\.js$)/);
      const packages = urls
        .filter((u) => u.includes("/node_modules/"))
        .map((u) => /\/node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(u)![1]);
      expect(new Set(packages)).toEqual(new Set(["canonicalize"]));
    } finally {
      (await import("node:fs")).rmSync(selfRef, { force: true });
    }
  });

  it("after close() the process exits by itself: no timer, socket or stream is left", async () => {
    const ep = await startEndpoint();
    endpoints.push(ep);
    await ep.publish({ app: { name: "demo" } });
    const dir = tempdir("strata-sdk-close-");
    const script = join(projectRoot, `.sdk-close-${process.pid}.mjs`);
    writeFileSync(
      script,
      `
import { createClient } from "strata-config/client";
const c = await createClient({ endpoint: process.argv[2], environment: "staging", service: "closer", trustedKeys: [process.argv[3]], cacheFile: process.argv[4] });
// The test publishes v2 once it reads this line: the change proves the event stream was open and in use.
const changed = new Promise((resolve) => c.on("change", resolve));
console.log("ready " + c.version);
await changed;
console.log("version " + c.version);
await c.close();
console.log("closed");
`,
    );
    try {
      let published = false;
      const r = await run([script, ep.url, ep.publicKey, join(dir, "cache.json")], {}, 60_000, (stdout) => {
        if (published || !stdout.includes("ready 1\n")) return;
        published = true;
        void ep.publish({ app: { name: "demo", replicas: 2 } });
      });
      expect(r.stderr).toBe("");
      expect(r.stdout).toBe("ready 1\nversion 2\nclosed\n");
      expect(r.signal).toBeNull();
      expect(r.code).toBe(0);
    } finally {
      (await import("node:fs")).rmSync(script, { force: true });
    }
  });
});
