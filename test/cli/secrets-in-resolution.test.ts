// @module-tag e2e
// SOPS files in resolution (SPEC §4-5): decrypted and merged after the plain file, sensitive everywhere,
// redacted in every output, exit 3 without keys, --skip-secrets for untrusted pull requests.
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exampleKeyEnv, noKeyEnv, projectRoot, strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { fixtureRepo } from "../support/repo-fixture.js";

afterAll(cleanupTempdirs);

/** Every plaintext secret of the example repository (what the tests grep for). */
const EXAMPLE_SECRETS = [
  "example-staging-db-password-7f3a",
  "example-production-db-password-c91e",
  "example-prod-partner-token-5d2b8e1a",
  "example-prod-shipping-token-aa41c07f",
  "example-production-redis-token-0b6d",
  "example-staging-partner-token-1c9e77",
];

const withKey = { env: exampleKeyEnv };

describe("secrets in resolution", () => {
  it("decrypts the example's secrets and shows them as <sensitive>", async () => {
    const r = await strata(["resolve", "--env", "production", "--format", "json", "--redact"], withKey);
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.database.password).toBe("<sensitive>");
    expect(doc.http.api_tokens).toEqual({ payments_partner: "<sensitive>", shipping_partner: "<sensitive>" });
    // cache.url interpolates the AUTH token, so it is sensitive too (SPEC §4).
    expect(doc.cache.url).toBe("<sensitive>");
    expect(doc.cache.auth_token).toBe("<sensitive>");
  });

  it("--show-secrets prints plaintext, with ::add-mask:: lines on stderr under GitHub Actions", async () => {
    const plain = await strata(
      ["resolve", "--env", "production", "--key", "database.password", "--show-secrets"],
      withKey,
    );
    expect(plain.stdout.trim()).toBe("example-production-db-password-c91e");
    const gh = await strata(
      ["resolve", "--env", "production", "--key", "cache.url", "--show-secrets", "--format", "json"],
      { env: { ...exampleKeyEnv, GITHUB_ACTIONS: "true" } },
    );
    expect(gh.stderr.split("\n")).toContain("::add-mask::example-production-redis-token-0b6d");
    expect(gh.stdout).toBe('"rediss://:example-production-redis-token-0b6d@cache.prod.internal.acme.example:6380"\n');
  });

  it("env output leaves sensitive values out, with a warning on stderr", async () => {
    const r = await strata(["resolve", "--env", "production", "--format", "env"], withKey);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).not.toMatch(/DATABASE_PASSWORD|CACHE_URL|HTTP_API_TOKENS/);
    expect(r.stderr).toMatch(/sensitive value\(s\) left out.*database\.password/);
  });

  it("explain shows the layer of a secret, never its value", async () => {
    const r = await strata(["explain", "--env", "production-eu", "database.password"], withKey);
    expect(r.exitCode).toBe(0);
    expect(r.stdout).toContain("environments/production/database.sops.yaml:1:11");
    expect(r.stdout).toContain("<sensitive>");
  });

  it("without keys validate exits 3 naming the files and the recipients tried", async () => {
    const r = await strata(["validate", "--format", "json"], { env: noKeyEnv });
    expect(r.exitCode).toBe(3);
    const doc = JSON.parse(r.stdout);
    const failed = doc.findings
      .filter((f: { code: string }) => f.code === "decryption-failed")
      .map((f: { file: string }) => f.file);
    expect(failed).toEqual(
      expect.arrayContaining(["environments/production/database.sops.yaml", "environments/staging/http.sops.yaml"]),
    );
    expect(JSON.stringify(doc)).toMatch(/age1[a-z0-9]+/);
  });

  it("validate --skip-secrets checks everything else, warns secrets-skipped, never exits 3", async () => {
    const r = await strata(["validate", "--skip-secrets", "--format", "json"], { env: noKeyEnv });
    expect(r.exitCode).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.findings).toContainEqual(expect.objectContaining({ code: "secrets-skipped", severity: "warning" }));
    // Structure is still checked: a plain-file problem is found without keys.
    const dir = fixtureRepo({ "environments/staging/app.yaml": "replicas: 50\n" });
    const bad = await strata(["validate", "--skip-secrets", "--repo", dir], { env: noKeyEnv });
    expect(bad.exitCode).toBe(1);
  });

  it("a value set in both the plain and the encrypted file is duplicate-definition", async () => {
    const dir = tempdir();
    for (const f of ["strata.yaml", ".sops.yaml"]) writeFileSync(join(dir, f), readFileSync(join(projectRoot, f)));
    await import("node:fs").then((fs) =>
      fs.cpSync(join(projectRoot, "schemas"), join(dir, "schemas"), { recursive: true }),
    );
    await import("node:fs").then((fs) =>
      fs.cpSync(join(projectRoot, "environments"), join(dir, "environments"), { recursive: true }),
    );
    writeFileSync(
      join(dir, "environments/staging/database.yaml"),
      readFileSync(join(projectRoot, "environments/staging/database.yaml"), "utf8") +
        "password: also-in-plaintext-0000\n",
    );
    const r = await strata(["validate", "--repo", dir, "--format", "json"], withKey);
    expect(r.exitCode).toBe(1);
    const doc = JSON.parse(r.stdout);
    const codes = doc.findings.map((f: { code: string }) => f.code);
    expect(codes).toContain("sensitive-in-plaintext");
  });

  it("no command prints a secret's plaintext unless asked to (ignoring only ::add-mask:: lines)", async () => {
    const runs: string[][] = [
      ["validate"],
      ["validate", "--format", "json"],
      ["validate", "--format", "github"],
      ["envs"],
      ["resolve", "--env", "production", "--redact"],
      ["resolve", "--env", "production", "--format", "json", "--redact"],
      ["resolve", "--env", "production", "--format", "env"],
      ["resolve", "--env", "staging", "--format", "json", "--redact"],
      ["resolve", "--env", "production", "--key", "http.api_tokens", "--redact"],
      ["explain", "--env", "production", "database.password"],
      ["explain", "--env", "production", "cache"],
      ["explain", "--env", "production", "http", "--format", "json"],
      ["explain", "--env", "staging", "database", "--format", "json"],
      ["secrets", "status", "environments/production/database.sops.yaml"],
    ];
    const jobs = runs.flatMap((args) => ["", "true"].map((github) => ({ args, github })));
    for (let i = 0; i < jobs.length; i += 4) {
      await Promise.all(
        jobs.slice(i, i + 4).map(async ({ args, github }) => {
          const r = await strata(args, { env: { ...exampleKeyEnv, GITHUB_ACTIONS: github } });
          expect(r.exitCode, `${args.join(" ")}: ${r.stderr}`).toBe(0);
          const out = (r.stdout + r.stderr)
            .split("\n")
            .filter((l) => !l.startsWith("::add-mask::"))
            .join("\n");
          for (const s of EXAMPLE_SECRETS) expect(out, `${args.join(" ")} printed ${s}`).not.toContain(s);
        }),
      );
    }
  }, 180_000);
});
