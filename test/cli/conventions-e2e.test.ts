// @module-tag e2e
// The CLI's conventions end to end (docs/reference.md, "Output conventions"): `-` for standard input and
// output, `--quiet`, errors on stderr, `-o`/`-e`, `strata version`, `--format json` on the commands that
// lacked it, and the `push --help` example that sets STRATA_SIGNING_KEY.
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { execa } from "execa";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parsePublicKey, parseSigningKey } from "../../src/core/snapshot/index.js";
import { cliPath, exampleKeyEnv, projectRoot, strata } from "../support/cli.js";
import { cleanupTempdirs, commitAll, gitdir, tempdir } from "../support/gitdir.js";
import { fixtureRepo } from "../support/repo-fixture.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { newKey } from "../support/snapshots.js";

const { key, pem } = newKey();
let server: TestServer;
beforeAll(async () => {
  server = await startTestServer({ trustedKeys: [key.publicKey] });
});
afterAll(async () => {
  await server.server.close();
  cleanupTempdirs();
});

const sopsFile = "environments/production/database.sops.yaml";

/** A committed repository that publishes `staging` to the test server. */
function publishingRepo(staging = "replicas: 2\n"): string {
  const dir = gitdir({
    "strata.yaml": `version: 1\nenvironments:\n  base: { abstract: true }\n  staging: { parent: base }\n  production: { parent: base }\nsigning:\n  trusted_keys: ["${key.publicKey.text}"]\ndistribution:\n  endpoint: ${server.url}\n`,
    "schemas/app.schema.yaml":
      "type: object\nadditionalProperties: false\nproperties:\n  replicas: { type: integer, default: 1 }\n",
    "environments/staging/app.yaml": staging,
    "environments/production/app.yaml": "replicas: 3\n",
    ".gitignore": "*.pem\n",
  });
  writeFileSync(join(dir, "key.pem"), pem, { mode: 0o600 });
  return dir;
}

describe("- means standard input or output", () => {
  it("keys generate --out - prints the private key on stdout and writes no file named -", async () => {
    const dir = tempdir();
    const r = await strata(["keys", "generate", "--out", "-", "--no-trust"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const key = parseSigningKey(r.stdout);
    expect(r.stderr).toContain(key.publicKey.text);
    expect(readdirSync(dir)).toEqual([]);
    expect(existsSync(join(dir, "-"))).toBe(false);
  });

  it("secrets decrypt - reads the SOPS document from standard input", async () => {
    const byName = await strata(["secrets", "decrypt", sopsFile], { env: exampleKeyEnv });
    expect(byName.exitCode, byName.stderr).toBe(0);
    const text = readFileSync(join(projectRoot, sopsFile), "utf8");
    const piped = await strata(["secrets", "decrypt", "-"], { env: exampleKeyEnv, input: text });
    expect(piped.exitCode, piped.stderr).toBe(0);
    expect(piped.stdout).toBe(byName.stdout);
    const json = await strata(["secrets", "decrypt", "-o", "json", "-"], { env: exampleKeyEnv, input: text });
    expect(JSON.parse(json.stdout)).toEqual(
      JSON.parse((await strata(["secrets", "decrypt", "--format", "json", sopsFile], { env: exampleKeyEnv })).stdout),
    );
  });

  it("secrets status - reads standard input; commands that write in place refuse -", async () => {
    const text = readFileSync(join(projectRoot, sopsFile), "utf8");
    expect((await strata(["secrets", "status", "-"], { input: text })).exitCode).toBe(0);
    expect((await strata(["secrets", "status", "-"], { input: "a: 1\n" })).exitCode).toBe(1);
    const edit = await strata(["secrets", "set", "-", "a", "1"], { input: text });
    expect(edit.exitCode).toBe(2);
    expect(edit.stderr).toContain("[invalid-argument]");
    expect(edit.stderr).toContain("standard input");
  });
});

describe("--quiet", () => {
  it("validate --quiet prints nothing when valid, only the errors when not", async () => {
    const ok = await strata(["validate", "--quiet", "--repo", fixtureRepo()]);
    expect(ok).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
    const bad = await strata([
      "validate",
      "-q",
      "--repo",
      fixtureRepo({ "environments/staging/app.yaml": "replicas: 99\n" }),
    ]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stdout).toContain("[constraint-violation]");
    expect(bad.stdout).not.toContain("✗");
  });

  it("diff --quiet prints nothing and exits 1 when the configuration changes", async () => {
    const dir = fixtureRepo({}, { git: true });
    const same = await strata(["diff", "--quiet", "--base", "HEAD"], { cwd: dir });
    expect(same).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
    writeFileSync(join(dir, "environments/production/app.yaml"), "replicas: 4\n");
    const changed = await strata(["diff", "--quiet", "--base", "HEAD"], { cwd: dir });
    expect(changed).toMatchObject({ exitCode: 1, stdout: "", stderr: "" });
  });

  it("push --quiet prints nothing when everything is published", async () => {
    const dir = publishingRepo();
    const r = await strata(["push", "-q", "-e", "staging", "--signing-key", "key.pem"], { cwd: dir });
    expect(r).toMatchObject({ exitCode: 0, stdout: "", stderr: "" });
  });
});

describe("errors go to stderr", () => {
  it("push: the refused environment on stderr, the published one on stdout", async () => {
    const dir = publishingRepo("replicas: lots\n");
    const r = await strata(["push", "--all", "--signing-key", "key.pem"], { cwd: dir });
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toContain("production: published");
    expect(r.stdout).not.toContain("staging");
    expect(r.stderr).toContain("✗ staging: refused");
    expect(r.stderr).toContain("[invalid-type]");
  });

  it("rollback: a version that does not exist is reported on stderr", async () => {
    const dir = publishingRepo();
    expect((await strata(["push", "-e", "staging", "--signing-key", "key.pem"], { cwd: dir })).exitCode).toBe(0);
    const r = await strata(["rollback", "-e", "production", "--to", "1", "--signing-key", "key.pem"], { cwd: dir });
    expect(r.exitCode).not.toBe(0);
    expect(r.stdout).toBe("");
    expect(r.stderr).toMatch(/production/);
  });
});

describe("short flags and strata version", () => {
  it("-e is --env and -o is --format", async () => {
    const dir = fixtureRepo();
    const long = await strata(["resolve", "--env", "production", "--format", "json", "--repo", dir]);
    const short = await strata(["resolve", "-e", "production", "-o", "json", "--repo", dir]);
    expect(short.exitCode, short.stderr).toBe(0);
    expect(short.stdout).toBe(long.stdout);
    const v = await strata(["validate", "-e", "staging", "-o", "json", "--repo", dir]);
    expect(JSON.parse(v.stdout)).toMatchObject({ ok: true, environments: ["staging"] });
  });

  it("strata version prints what --version prints; -o json the version and Node's", async () => {
    const flag = await strata(["--version"]);
    expect(await strata(["version"])).toMatchObject({ exitCode: 0, stdout: flag.stdout });
    const json = JSON.parse((await strata(["version", "-o", "json"])).stdout) as Record<string, unknown>;
    expect(json).toEqual({ schemaVersion: 1, version: flag.stdout.trim(), node: process.versions.node });
  });
});

describe("--format json", () => {
  it("secrets status", async () => {
    const r = await strata(["secrets", "status", "-o", "json", sopsFile]);
    expect(JSON.parse(r.stdout)).toEqual({ schemaVersion: 1, file: sopsFile, state: "encrypted" });
    const plain = await strata(["secrets", "status", "--format", "json", "-"], { input: "a: 1\n" });
    expect(plain.exitCode).toBe(1);
    expect(JSON.parse(plain.stdout)).toEqual({ schemaVersion: 1, file: "-", state: "plaintext" });
  });

  it("keys generate", async () => {
    const dir = tempdir();
    const r = await strata(["keys", "generate", "--out", "k.pem", "--no-trust", "-o", "json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { publicKey: string; keyid: string; out: string; trustedIn: null };
    expect(doc).toMatchObject({ schemaVersion: 1, out: "k.pem", trustedIn: null });
    expect(parseSigningKey(readFileSync(join(dir, "k.pem"), "utf8")).publicKey.text).toBe(doc.publicKey);
    expect(parsePublicKey(doc.publicKey).keyid).toBe(doc.keyid);
  });

  it("init", async () => {
    const dir = tempdir();
    const r = await strata(["init", "config", "-o", "json"], { cwd: dir });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { written: string[]; leftAlone: unknown[]; actionPinned: boolean };
    expect(doc).toMatchObject({ schemaVersion: 1, directory: "config", existing: false, actionPinned: false });
    expect(doc.written).toContain("strata.yaml");
    for (const f of doc.written) expect(existsSync(join(dir, "config", f)), f).toBe(true);
    const again = JSON.parse(
      (await strata(["init", "--existing", "-o", "json"], { cwd: join(dir, "config") })).stdout,
    ) as { written: string[]; leftAlone: { path: string }[] };
    expect(again.written).toEqual([]);
    expect(again.leftAlone.map((f) => f.path)).toContain("strata.yaml");
  });

  it("serve token create", async () => {
    const dir = tempdir();
    const r = await strata(["serve", "token", "create", "--scope", "read:staging", "--name", "ci", "-o", "json"], {
      cwd: dir,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout) as { token: string };
    expect(doc).toMatchObject({ schemaVersion: 1, name: "ci", scopes: ["read:staging"] });
    expect(readFileSync(join(dir, "strata-tokens.json"), "utf8")).not.toContain(doc.token);
  });

  it("schema export --check and typegen --check", async () => {
    const dir = fixtureRepo();
    const stale = await strata(["schema", "export", "--check", "-o", "json", "--repo", dir]);
    expect(stale.exitCode).toBe(1);
    expect(JSON.parse(stale.stdout)).toMatchObject({ schemaVersion: 1, ok: false, check: true, upToDate: false });
    expect((await strata(["schema", "export", "--repo", dir])).exitCode).toBe(0);
    const fresh = await strata(["schema", "export", "--check", "-o", "json", "--repo", dir]);
    expect(JSON.parse(fresh.stdout)).toMatchObject({ ok: true, upToDate: true, changed: [], removed: [] });
    expect(fresh.exitCode).toBe(0);

    const missing = await strata(["typegen", "--out", "types.ts", "--check", "-o", "json"], { cwd: dir });
    expect(missing.exitCode).not.toBe(0);
    expect((await strata(["typegen", "--out", "types.ts"], { cwd: dir })).exitCode).toBe(0);
    const current = await strata(["typegen", "--out", "types.ts", "--check", "-o", "json"], { cwd: dir });
    expect(current.exitCode, current.stderr).toBe(0);
    expect(JSON.parse(current.stdout)).toMatchObject({ schemaVersion: 1, ok: true, upToDate: true, out: "types.ts" });
  });
});

describe("push --help", () => {
  it("its STRATA_SIGNING_KEY example works as written", async () => {
    const help = await strata(["push", "--help"]);
    const line = help.stdout.split("\n").find((l) => l.includes("STRATA_SIGNING_KEY="));
    expect(line).toBeDefined();
    const command = line!.replace(/^\s*\$ /, "").replace(/\bstrata /, `"${process.execPath}" "${cliPath}" `);
    // The example names ../signing.pem: the key beside the repository, as `keys generate` suggests.
    const dir = publishingRepo("replicas: 9\n");
    writeFileSync(join(dir, "..", "signing.pem"), pem, { mode: 0o600 });
    commitAll(dir, "ready");
    const r = await execa("sh", ["-c", command], {
      cwd: dir,
      env: { NO_COLOR: "1", GITHUB_ACTIONS: "", CI: "", STRATA_SIGNING_KEY: undefined },
      reject: false,
    });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    expect(String(r.stdout)).toMatch(/staging: published version \d+/);
  });

  it("a path in STRATA_SIGNING_KEY is named as the mistake it is", async () => {
    const dir = publishingRepo();
    const r = await strata(["push", "-e", "staging"], { cwd: dir, env: { STRATA_SIGNING_KEY: "key.pem" } });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("not a file name");
    expect(r.stderr).toContain("--signing-key");
  });
});
