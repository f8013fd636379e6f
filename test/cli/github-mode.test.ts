// @module-tag e2e
// In GitHub mode (GITHUB_ACTIONS=true) every error is an `::error title=<code>::` annotation, located when it
// has a place, with its hint, and never a secret; push and rollback write a job summary of what they did
// (the approvals gate's is in test/cli/approvals.test.ts), and a command that fails says why there too.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, commitAll, gitdir, tempdir } from "../support/gitdir.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { newKey } from "../support/snapshots.js";

const { key, pem } = newKey();
const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.server.close()));
});
afterAll(() => cleanupTempdirs());

function actions(dir: string): { env: Record<string, string>; summary: () => string } {
  const file = join(dir, "summary.md");
  writeFileSync(file, "");
  return {
    env: { GITHUB_ACTIONS: "true", GITHUB_STEP_SUMMARY: file, GITHUB_WORKSPACE: dir },
    summary: () => readFileSync(file, "utf8"),
  };
}

async function repository(): Promise<{ dir: string; url: string }> {
  const s = await startTestServer({ trustedKeys: [key.publicKey] });
  servers.push(s);
  const dir = gitdir({
    "strata.yaml": `version: 1\nenvironments:\n  staging: {}\nsigning:\n  trusted_keys: ["${key.publicKey.text}"]\ndistribution:\n  endpoint: ${s.url}\n`,
    "schemas/app.schema.yaml": "type: object\nproperties:\n  replicas: { type: integer }\n",
    "environments/staging/app.yaml": "replicas: 2\n",
  });
  commitAll(dir, "config");
  writeFileSync(join(dir, "..", `${dir.split("/").pop()}.pem`), pem, { mode: 0o600 });
  return { dir, url: s.url };
}
const keyFile = (dir: string): string => join(dir, "..", `${dir.split("/").pop()}.pem`);

describe("errors in GitHub mode", () => {
  it.each([
    [["resolve", "--env", "nope"], "unknown-environment", 2],
    [["validate", "--bogus"], "invalid-argument", 2],
    [["explain", "--env", "staging", "app.replica"], "unknown-key", 2],
    [["push", "--env", "staging"], "invalid-argument", 2],
  ])("strata %j is an ::error annotation titled with its code", async (args, code, exit) => {
    const { dir } = await repository();
    const { env, summary } = actions(dir);
    const r = await strata(args, { cwd: dir, env });
    expect(r.exitCode).toBe(exit);
    expect(r.stderr).toMatch(new RegExp(`^::error title=${code}::`, "m"));
    expect(summary()).toContain(`\`${code}\``);
  });

  it("an error at a place in a file is located, with its hint on the next line", async () => {
    const { dir } = await repository();
    writeFileSync(
      join(dir, "strata.yaml"),
      readFileSync(join(dir, "strata.yaml"), "utf8").replace(/trusted_keys: .*/, "trusted_keys: one"),
    );
    const { env } = actions(dir);
    const r = await strata(["keys", "generate", "--out", join(dir, "..", "k2.pem")], { cwd: dir, env });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(
      /^::error file=strata\.yaml,line=5,col=\d+,title=invalid-config::strata\.yaml:5:\d+: signing\.trusted_keys is not a list%0Ahint: /m,
    );
  });

  it("outside GitHub mode there is no annotation", async () => {
    const r = await strata(["resolve", "--env", "nope"], { cwd: tempdir() });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).not.toContain("::error");
  });
});

describe("job summaries", () => {
  it("push: what was published, and where", async () => {
    const { dir, url } = await repository();
    const { env, summary } = actions(dir);
    const r = await strata(["push", "--env", "staging", "--signing-key", keyFile(dir)], { cwd: dir, env });
    expect(r.exitCode, r.stderr).toBe(0);
    const md = summary();
    expect(md).toContain(`### strata push to ${url}`);
    expect(md).toMatch(/\| staging \| ✓ published \| 1 \| `sha256:[0-9a-f]{12}…` \|/);
    const again = await strata(["push", "--env", "staging", "--signing-key", keyFile(dir)], { cwd: dir, env });
    expect(again.exitCode).toBe(0);
    expect(summary()).toMatch(/\| staging \| = unchanged \| 1 \|/);
  });

  it("push that fails: the summary and an annotation for each problem", async () => {
    const { dir } = await repository();
    const { env, summary } = actions(dir);
    const r = await strata(
      ["push", "--env", "staging", "--signing-key", keyFile(dir), "--endpoint", "http://127.0.0.1:9"],
      {
        cwd: dir,
        env,
      },
    );
    expect(r.exitCode).toBe(4);
    expect(r.stderr + r.stdout).toMatch(/^::error title=unreachable::/m);
    expect(summary()).toMatch(/\| staging \| ✗ failed \|/);
  });

  it("rollback: the version whose content came back, as which version", async () => {
    const { dir, url } = await repository();
    const { env, summary } = actions(dir);
    expect((await strata(["push", "--env", "staging", "--signing-key", keyFile(dir)], { cwd: dir })).exitCode).toBe(0);
    writeFileSync(join(dir, "environments/staging/app.yaml"), "replicas: 3\n");
    commitAll(dir, "three");
    expect((await strata(["push", "--env", "staging", "--signing-key", keyFile(dir)], { cwd: dir })).exitCode).toBe(0);
    const r = await strata(["rollback", "--env", "staging", "--to", "1", "--signing-key", keyFile(dir)], {
      cwd: dir,
      env,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(summary()).toContain(`### strata rollback to ${url}`);
    expect(summary()).toMatch(/\| staging \| ✓ rolled back to the content of version 1 \| 3 \|/);
  });
});
