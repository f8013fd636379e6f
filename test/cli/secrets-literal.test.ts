// @module-tag e2e
// Secrets stay literal and never leak in part (issue 10, items 1-4): values from SOPS files are never
// interpolated or unescaped, data output is redacted structurally (never by scrubbing its text),
// workflow commands are scrubbed before escaping, and masks go to stderr for every shown secret.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { encryptDocument } from "../../src/app/secrets/encrypt-document.js";
import { jsonToTree } from "../../src/core/sops/document.js";
import type { Branch } from "../../src/core/sops/tree.js";
import { exampleKeyEnv, noKeyEnv, projectRoot, strata, type CliResult } from "../support/cli.js";
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
const GREP = [
  "Xk!9Lp",
  "Zq8v",
  "Ab$${cd}Ef",
  "Ab${cd}Ef",
  "pw-${app.port}",
  "pw-5432",
  "50%off",
  "50%25off",
  "second-line-of-secret",
];

let repo: string;
const env = { ...exampleKeyEnv };

beforeAll(async () => {
  repo = tempdir();
  const secretFile = await encryptDocument(jsonToTree(SECRETS) as Branch, { format: "yaml", age: [EXAMPLE_RECIPIENT] });
  writeTree(repo, {
    "strata.yaml": "version: 1\nenvironments:\n  base: { abstract: true }\n  staging: { parent: base }\n",
    ".sops.yaml": readFileSync(join(projectRoot, ".sops.yaml"), "utf8"),
    "schemas/app.schema.yaml": `type: object
additionalProperties: false
properties:
  port: { type: integer, default: 5432 }
  enabled: { type: boolean, default: true }
  url: { type: string }
${Object.keys(SECRETS)
  .map((k) => `  ${k}: { type: string, x-sensitive: true }`)
  .join("\n")}
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
    const r = await strata(["resolve", "--repo", repo, "--env", "staging", "--format", "json", "--show-secrets"], {
      env,
    });
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = JSON.parse(r.stdout);
    for (const [k, v] of Object.entries(SECRETS)) expect(doc.app[k]).toBe(v);
    expect(doc.app.url).toBe(`pg://u:${SECRETS.fragment}@db`);
    const hidden = JSON.parse(
      (await strata(["resolve", "--repo", repo, "--env", "staging", "--format", "json", "--redact"], { env })).stdout,
    );
    expect(hidden.app.url).toBe("<sensitive>");
  });
});

describe("data output is redacted structurally", () => {
  it('a secret `true` leaves `"enabled": true` alone: resolve json, yaml and env stay valid', async () => {
    const json = await strata(["resolve", "--repo", repo, "--env", "staging", "--format", "json", "--redact"], { env });
    expect(json.exitCode, json.stderr).toBe(0);
    const doc = JSON.parse(json.stdout);
    expect(doc.app.enabled).toBe(true);
    expect(doc.app.flag).toBe("<sensitive>");
    expect(json.stdout).not.toContain("<redacted>");
    expectNoSecret(json, "resolve --format json");
    const yaml = await strata(["resolve", "--repo", repo, "--env", "staging", "--redact"], { env });
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

  it.each([
    ["json", (t: string): unknown => JSON.parse(t)],
    ["yaml", (t: string): unknown => parseYaml(t)],
  ] as const)(
    "resolve --show-secrets --format %s: stdout is exactly the data, masks on stderr",
    async (format, parseOut) => {
      const r = await strata(["resolve", "--repo", repo, "--env", "staging", "--format", format, "--show-secrets"], {
        env: gh,
      });
      expect(r.exitCode, r.stderr).toBe(0);
      expect(r.stdout).not.toContain("::add-mask::");
      expect((parseOut(r.stdout) as { app: { tiny: string } }).app.tiny).toBe(SECRETS.tiny);
      const masks = r.stderr
        .split("\n")
        .filter((l) => l.startsWith("::add-mask::"))
        .map((l) => l.slice("::add-mask::".length));
      // Every shown secret, however short; a multi-line one whole (escaped) and line by line; the
      // interpolated URL too.
      expect(masks).toEqual(
        expect.arrayContaining([
          "q7z",
          "true",
          "Zq8v${Xk!9Lp}Wm4",
          "50%25off",
          "second-line-of-secret",
          "50%25off%0D%0Asecond-line-of-secret",
          `pg://u:${SECRETS.fragment}@db`,
        ]),
      );
    },
  );

  it("resolve --show-secrets --format env and secrets decrypt write masks to stderr only", async () => {
    const envOut = await strata(["resolve", "--repo", repo, "--env", "staging", "--format", "env", "--show-secrets"], {
      env: gh,
    });
    expect(envOut.stdout).not.toContain("::add-mask::");
    expect(envOut.stderr).toContain("::add-mask::q7z\n");
    const dec = await strata(["secrets", "decrypt", "environments/staging/app.sops.yaml", "--format", "json"], {
      cwd: repo,
      env: gh,
    });
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
    for (const args of [
      ["secrets", "decrypt", "bomb.yaml"],
      ["secrets", "set", "bomb.yaml", "a", "1"],
      ["secrets", "encrypt", "bomb.yaml", "--age", EXAMPLE_RECIPIENT],
    ]) {
      const r = await strata(args, { cwd: dir, env, timeout: 20_000 });
      expect(r.exitCode, `${args.join(" ")}: ${r.stderr}`).toBe(1);
      expect(r.stderr).toMatch(/bomb\.yaml:\d+:\d+: more than 100 alias expansions/);
      expect(r.stderr).toContain("yaml-limit");
    }
  });
});

describe("SOPS files checked without a key (--skip-secrets) and the version field", () => {
  async function repoWith(sopsFile: (encrypted: string) => string): Promise<string> {
    const dir = tempdir();
    const encrypted = await encryptDocument(jsonToTree({ password: "skip-secrets-test-value" }) as Branch, {
      format: "yaml",
      age: [EXAMPLE_RECIPIENT],
    });
    writeTree(dir, {
      "strata.yaml": "version: 1\nenvironments:\n  staging: {}\n",
      "schemas/app.schema.yaml": "type: object\nproperties:\n  password: { type: string, x-sensitive: true }\n",
      "environments/staging/app.sops.yaml": sopsFile(encrypted),
    });
    return dir;
  }
  const findingsOf = (
    r: CliResult,
  ): { code: string; severity: string; file: string; line: number; column: number; message: string }[] =>
    JSON.parse(r.stdout).findings;
  const lineOf = (text: string, re: RegExp): number => text.split("\n").findIndex((l) => re.test(l)) + 1;

  it("a .sops.yaml file that is not SOPS is a located invalid-sops-file: exit 1, never 3", async () => {
    const dir = await repoWith(() => "password: not-encrypted-at-all\n");
    for (const flags of [["--skip-secrets"], []]) {
      const r = await strata(["validate", "--repo", dir, "--format", "json", ...flags], {
        env: flags.length ? noKeyEnv : env,
      });
      expect(r.exitCode, r.stdout).toBe(1);
      expect(findingsOf(r)).toContainEqual(
        expect.objectContaining({
          code: "invalid-sops-file",
          file: "environments/staging/app.sops.yaml",
          line: 1,
          column: 1,
        }),
      );
    }
  });

  it("a SOPS file without a MAC is a located finding under --skip-secrets (exit 1); with a key it stays mac-missing (exit 3)", async () => {
    let text = "";
    const dir = await repoWith((e) => (text = e.replace(/^ {4}mac: .*\n/m, "")));
    const r = await strata(["validate", "--repo", dir, "--skip-secrets", "--format", "json"], { env: noKeyEnv });
    expect(r.exitCode, r.stdout).toBe(1);
    expect(findingsOf(r)).toContainEqual(
      expect.objectContaining({ code: "invalid-sops-file", line: lineOf(text, /^sops:/), column: 1 }),
    );
    const withKey = await strata(["validate", "--repo", dir, "--format", "json"], { env });
    expect(withKey.exitCode).toBe(3);
    expect(findingsOf(withKey).map((f) => f.code)).toContain("mac-missing");
  });

  it("a missing version is refused with a located finding, in validate (with or without a key) and in secrets decrypt", async () => {
    let text = "";
    const dir = await repoWith((e) => (text = e.replace(/^ {4}version: .*\n/m, "")));
    for (const flags of [["--skip-secrets"], []]) {
      const r = await strata(["validate", "--repo", dir, "--format", "json", ...flags], {
        env: flags.length ? noKeyEnv : env,
      });
      expect(r.exitCode, r.stdout).toBe(1);
      expect(findingsOf(r)).toContainEqual(
        expect.objectContaining({
          code: "invalid-sops-file",
          line: lineOf(text, /^sops:/),
          column: 1,
          message: expect.stringContaining("no version"),
        }),
      );
    }
    const d = await strata(["secrets", "decrypt", "environments/staging/app.sops.yaml"], { cwd: dir, env });
    expect(d.exitCode).toBe(1);
    expect(d.stderr).toContain(
      `environments/staging/app.sops.yaml:${lineOf(text, /^sops:/)}:1: the sops metadata has no version`,
    );
    expect(d.stdout).toBe("");
  });

  it("an unknown major version is a located warning; the file still opens", async () => {
    let text = "";
    const dir = await repoWith((e) => (text = e.replace(/^( {4}version: ).*$/m, "$14.0.0")));
    const r = await strata(["validate", "--repo", dir, "--format", "json"], { env });
    expect(r.exitCode, r.stdout).toBe(0);
    expect(findingsOf(r)).toContainEqual(
      expect.objectContaining({
        code: "sops-version",
        severity: "warning",
        line: lineOf(text, /^ {4}version:/),
        column: 14,
      }),
    );
    const d = await strata(["secrets", "decrypt", "environments/staging/app.sops.yaml"], { cwd: dir, env });
    expect(d.exitCode).toBe(0);
    expect(d.stderr).toContain("sops-version");
    expect(d.stdout).toContain("skip-secrets-test-value");
  });
});

describe("the first secret: secrets set creates the file", () => {
  it("creates a missing file encrypted by the matching .sops.yaml creation rule, saying which rule and recipients", async () => {
    const dir = tempdir();
    writeTree(dir, {
      "strata.yaml": "version: 1\nenvironments:\n  staging: {}\n",
      "schemas/app.schema.yaml": "type: object\nproperties:\n  password: { type: string, x-sensitive: true }\n",
      ".sops.yaml": readFileSync(join(projectRoot, ".sops.yaml"), "utf8"),
    });
    const r = await strata(
      ["secrets", "set", "environments/staging/app.sops.yaml", "password", "first-secret-value-81f2"],
      { cwd: dir, env },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      "created environments/staging/app.sops.yaml, encrypted by creation rule 1 of .sops.yaml (path_regex environments/.*\\.sops\\.yaml$)",
    );
    expect(r.stderr).toContain(EXAMPLE_RECIPIENT);
    expect(r.stdout + r.stderr).not.toContain("first-secret-value-81f2");
    expect(readFileSync(join(dir, "environments/staging/app.sops.yaml"), "utf8")).toMatch(/password: ENC\[AES256_GCM/);
    const shown = await strata(
      ["resolve", "--repo", dir, "--env", "staging", "--key", "app.password", "--show-secrets"],
      { env },
    );
    expect(shown.stdout).toBe("first-secret-value-81f2\n");
  });

  it("with no matching rule it says how to add one (exit 2) and writes nothing", async () => {
    const dir = tempdir();
    writeTree(dir, { ".sops.yaml": "creation_rules:\n  - path_regex: other/.*\n    age: " + EXAMPLE_RECIPIENT + "\n" });
    const r = await strata(["secrets", "set", "environments/staging/app.sops.yaml", "password", "x"], {
      cwd: dir,
      env,
    });
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain("no .sops.yaml creation rule matches it");
    expect(r.stderr).toContain("creation_rules:");
    expect(r.stderr).toContain("- path_regex: environments/.*\\.sops\\.yaml$");
    expect(r.stderr).not.toContain("ENOENT");
  });

  it("from strata init: the scaffold's instructions and the sensitive-in-plaintext hint lead to a command that works", async () => {
    const dir = join(tempdir(), "repo");
    expect((await strata(["init", dir], { env })).exitCode).toBe(0);
    // The scaffolded schema names the command.
    const schema = readFileSync(join(dir, "schemas/app.schema.yaml"), "utf8");
    expect(schema).toContain("strata secrets set environments/production/app.sops.yaml api_token VALUE");
    // Before a key is listed, set says what to do instead of failing with ENOENT.
    const noKey = await strata(["secrets", "set", "environments/production/app.sops.yaml", "api_token", "v"], {
      cwd: dir,
      env,
    });
    expect(noKey.exitCode).toBe(2);
    expect(noKey.stderr).toMatch(/creation rule 1 of .*\.sops\.yaml .*lists no keys/);
    expect(noKey.stderr).toContain("age-keygen");
    writeTree(dir, {
      ".sops.yaml": readFileSync(join(dir, ".sops.yaml"), "utf8").replace("age: []", `age: ${EXAMPLE_RECIPIENT}`),
    });
    // A secret written in plaintext: the finding's hint is the command to run.
    writeTree(dir, {
      "environments/production/app.yaml":
        readFileSync(join(dir, "environments/production/app.yaml"), "utf8") + "api_token: tok-in-plain-3e9a\n",
    });
    const v = await strata(["validate", "--repo", dir, "--format", "json"], { env });
    const finding = JSON.parse(v.stdout).findings.find((f: { code: string }) => f.code === "sensitive-in-plaintext");
    const command = /strata (secrets set \S+ \S+) VALUE/.exec(finding.hint)!;
    expect(command[1]).toBe("secrets set environments/production/app.sops.yaml api_token");
    const set = await strata([...command[1]!.split(" "), "tok-now-encrypted-3e9a"], { cwd: dir, env });
    expect(set.exitCode, set.stderr).toBe(0);
    writeTree(dir, {
      "environments/production/app.yaml": readFileSync(join(dir, "environments/production/app.yaml"), "utf8").replace(
        "api_token: tok-in-plain-3e9a\n",
        "",
      ),
    });
    const ok = await strata(["validate", "--repo", dir], { env });
    expect(ok.exitCode, ok.stdout).toBe(0);
    const shown = await strata(
      ["resolve", "--repo", dir, "--env", "production", "--key", "app.api_token", "--show-secrets"],
      { env },
    );
    expect(shown.stdout).toBe("tok-now-encrypted-3e9a\n");
  });
});
