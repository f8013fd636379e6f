// Secrets stay literal and never leak in part (issue 10, items 1-4): values from SOPS files are never
// interpolated or unescaped, data output is redacted structurally (never by scrubbing its text),
// workflow commands are scrubbed before escaping, and masks go to stderr for every shown secret.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { encryptDocument } from "../../src/app/secrets/encrypt-document.js";
import { exampleKeyEnv, projectRoot, strata, type CliResult } from "../support/cli.js";
import { aliasBomb } from "../support/alias-bomb.js";
import { cleanupTempdirs, tempdir, writeTree } from "../support/gitdir.js";

afterAll(cleanupTempdirs);

/** The example repository's creation-rule recipient (examples/keys/EXAMPLE-ONLY-NOT-A-REAL-KEY.age.txt). */
const EXAMPLE_RECIPIENT = /age: (age1[a-z0-9]+)/.exec(readFileSync(join(projectRoot, ".sops.yaml"), "utf8"))![1]!;

/** Secrets chosen to trip every old bug: reference-shaped text, escapes, JSON literals, %, CR/LF, short. */
const SECRETS = {
  fragment: "Zq8v${Xk!9Lp}Wm4",
  escaped: "Ab$${cd}Ef",
  reference: "pw-${app.port}",
  flag: "true",
  percent: "50%off\r\nsecond-line-of-secret",
  tiny: "q7z",
};
/** What must never appear in output that was not asked to show secrets. */
const GREP = ["Xk!9Lp", "Zq8v", "Ab$${cd}Ef", "Ab${cd}Ef", "pw-${app.port}", "pw-5432", "50%off", "50%25off", "second-line-of-secret"];

let repo: string;
const env = { ...exampleKeyEnv };

beforeAll(async () => {
  repo = tempdir();
  const secretFile = await encryptDocument(SECRETS, { format: "yaml", age: [EXAMPLE_RECIPIENT] });
  writeTree(repo, {
    "strata.yaml": "version: 1\nenvironments:\n  base: { abstract: true }\n  staging: { parent: base }\n",
    ".sops.yaml": readFileSync(join(projectRoot, ".sops.yaml"), "utf8"),
    "schemas/app.schema.yaml": `type: object
additionalProperties: false
properties:
  port: { type: integer, default: 5432 }
  enabled: { type: boolean, default: true }
  url: { type: string }
${Object.keys(SECRETS).map((k) => `  ${k}: { type: string, x-sensitive: true }`).join("\n")}
`,
    "environments/base/app.yaml": "url: pg://u:${app.fragment}@db\n",
    "environments/staging/app.sops.yaml": secretFile,
  });
});

function expectNoSecret(r: CliResult, what: string): void {
  const out = r.stdout + r.stderr;
  for (const s of GREP) expect(out, `${what} printed ${s}`).not.toContain(s);
}

describe("values from SOPS files are literal", () => {
  it("validate finds nothing in a secret that looks like a reference, in every format", async () => {
    for (const format of ["text", "json", "github"]) {
      const r = await strata(["validate", "--repo", repo, "--format", format], { env });
      expect(r.exitCode, r.stdout + r.stderr).toBe(0);
      expect(r.stdout).not.toMatch(/unresolved-reference|not a key path/);
      expectNoSecret(r, `validate --format ${format}`);
    }
  });

  it("resolve --show-secrets prints each secret exactly as encrypted; a plain value referencing one is sensitive", async () => {
    const r = await strata(["resolve", "--repo", repo, "--env", "staging", "--format", "json", "--show-secrets"], { env });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    for (const [k, v] of Object.entries(SECRETS)) expect(doc.app[k]).toBe(v);
    expect(doc.app.url).toBe(`pg://u:${SECRETS.fragment}@db`);
    const hidden = JSON.parse((await strata(["resolve", "--repo", repo, "--env", "staging", "--format", "json"], { env })).stdout);
    expect(hidden.app.url).toBe("<sensitive>");
  });
});

describe("data output is redacted structurally", () => {
  it("a secret `true` leaves `\"enabled\": true` alone: resolve json, yaml and env stay valid", async () => {
    const json = await strata(["resolve", "--repo", repo, "--env", "staging", "--format", "json"], { env });
    expect(json.exitCode, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.app.enabled).toBe(true);
    expect(doc.app.flag).toBe("<sensitive>");
    expect(json.stdout).not.toContain("<redacted>");
    expectNoSecret(json, "resolve --format json");
    const yaml = await strata(["resolve", "--repo", repo, "--env", "staging"], { env });
    expect(parseYaml(yaml.stdout).app.enabled).toBe(true);
    expectNoSecret(yaml, "resolve");
    const envOut = await strata(["resolve", "--repo", repo, "--env", "staging", "--format", "env"], { env });
    expect(envOut.stdout).toContain("APP_ENABLED='true'");
    expectNoSecret(envOut, "resolve --format env");
  });

  it("validate --format json stays valid JSON whatever the secrets are", async () => {
    const r = await strata(["validate", "--repo", repo, "--format", "json"], { env });
    expect(JSON.parse(r.stdout).ok).toBe(true);
  });
});

describe("GitHub Actions masks", () => {
  const gh = { ...env, GITHUB_ACTIONS: "true" };

  it.each([["json", (t: string): unknown => JSON.parse(t)], ["yaml", (t: string): unknown => parseYaml(t)]] as const)("resolve --show-secrets --format %s: stdout is exactly the data, masks on stderr", async (format, parseOut) => {
    const r = await strata(["resolve", "--repo", repo, "--env", "staging", "--format", format, "--show-secrets"], { env: gh });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).not.toContain("::add-mask::");
    expect((parseOut(r.stdout) as { app: { tiny: string } }).app.tiny).toBe(SECRETS.tiny);
    const masks = r.stderr.split("\n").filter((l) => l.startsWith("::add-mask::")).map((l) => l.slice("::add-mask::".length));
    // Every shown secret, however short; a multi-line one whole (escaped) and line by line; the
    // interpolated URL too.
    expect(masks).toEqual(expect.arrayContaining(["q7z", "true", "Zq8v${Xk!9Lp}Wm4", "50%25off", "second-line-of-secret", "50%25off%0D%0Asecond-line-of-secret", `pg://u:${SECRETS.fragment}@db`]));
  });

  it("resolve --show-secrets --format env and secrets decrypt write masks to stderr only", async () => {
    const envOut = await strata(["resolve", "--repo", repo, "--env", "staging", "--format", "env", "--show-secrets"], { env: gh });
    expect(envOut.stdout).not.toContain("::add-mask::");
    expect(envOut.stderr).toContain("::add-mask::q7z\n");
    const dec = await strata(["secrets", "decrypt", "environments/staging/app.sops.yaml", "--format", "json"], { cwd: repo, env: gh });
    expect(dec.exitCode, dec.stderr).toBe(0);
    expect(JSON.parse(dec.stdout)).toEqual(SECRETS);
    expect(dec.stderr).toContain("::add-mask::q7z\n");
    expect(dec.stderr).toContain("::add-mask::second-line-of-secret\n");
  });
});

describe("SOPS YAML limits in the secrets commands", () => {
  it("an alias bomb is a located yaml-limit (exit 1), quickly, for decrypt, set and encrypt", async () => {
    const dir = tempdir();
    writeTree(dir, { "bomb.yaml": aliasBomb() });
    for (const args of [["secrets", "decrypt", "bomb.yaml"], ["secrets", "set", "bomb.yaml", "a", "1"], ["secrets", "encrypt", "bomb.yaml", "--age", EXAMPLE_RECIPIENT]]) {
      const r = await strata(args, { cwd: dir, env, timeout: 20_000 });
      expect(r.exitCode, `${args.join(" ")}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/bomb\.yaml:\d+:\d+: more than 100 alias expansions/);
      expect(r.stderr).toContain("yaml-limit");
    }
  });
});
