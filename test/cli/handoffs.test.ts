// @module-tag e2e
// Hand-offs to the deployment tools (docs/deploy.md): dotenv for docker/kubectl/systemd, Kubernetes
// ConfigMap/Secret manifests, `strata exec`, and no `<sensitive>` placeholder reaching a tool unnoticed.
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Secret } from "kubernetes-models/v1/Secret";
import { afterAll, describe, expect, it } from "vitest";
import { parse as parseYaml } from "yaml";
import { dotenvProblem } from "../../src/core/render/handoff.js";
import { cliPath, exampleKeyEnv, projectRoot, strata, type CliResult } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { fixtureRepo } from "../support/repo-fixture.js";

afterAll(cleanupTempdirs);

/** Every plaintext secret of the example repository's production environment. */
const PROD_SECRETS = [
  "example-production-db-password-c91e",
  "example-prod-partner-token-5d2b8e1a",
  "example-prod-shipping-token-aa41c07f",
  "example-production-redis-token-0b6d",
];
const withKey = { env: exampleKeyEnv };

function expectNoSecret(r: CliResult, what: string): void {
  const out = r.stdout + r.stderr;
  for (const s of PROD_SECRETS) {
    expect(out, `${what} printed ${s}`).not.toContain(s);
    expect(out, `${what} printed ${s} in base64`).not.toContain(Buffer.from(s).toString("base64").slice(0, 24));
  }
}

/** docker's and kubectl's reading of an env file: the value is everything after the first `=`. */
function readLikeDocker(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const l = line.trimStart();
    if (l === "" || l.startsWith("#")) continue;
    const i = l.indexOf("=");
    out[l.slice(0, i)] = l.slice(i + 1);
  }
  return out;
}

const kubectl = (() => {
  try {
    execFileSync("kubectl", ["version", "--client"], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
})();

const PLAIN_SCHEMA = `type: object
properties:
  name: { type: string }
  url: { type: string }
  note: { type: string }
  json: { type: object }
  list: { type: array }
  count: { type: integer }
  empty: { type: string }
`;

describe("resolve --format dotenv", () => {
  const values = {
    name: "checkout",
    url: "postgres://u@db:5432/x?a=b&c=d#frag",
    note: 'it\'s a "quoted" word; # not a comment = still the value',
    json: { a: [1, "two"], b: null },
    list: ["x", "y z"],
    count: 42,
    empty: "",
  };
  const repo = (): string =>
    fixtureRepo({
      "schemas/svc.schema.yaml": PLAIN_SCHEMA,
      "environments/base/svc.yaml": JSON.stringify(values) + "\n",
    });

  it("writes KEY=value lines that docker and kubectl read back verbatim", async () => {
    const dir = repo();
    const r = await strata(["resolve", "--repo", dir, "--env", "staging", "--format", "dotenv", "--key", "svc"]);
    expect(r.exitCode, r.stderr).toBe(0);
    const expected = {
      SVC_NAME: "checkout",
      SVC_URL: values.url,
      SVC_NOTE: values.note,
      SVC_JSON_A: '[1,"two"]',
      SVC_JSON_B: "null",
      SVC_LIST: '["x","y z"]',
      SVC_COUNT: "42",
      SVC_EMPTY: "",
    };
    expect(readLikeDocker(r.stdout)).toEqual(expected);
    for (const line of r.stdout.trimEnd().split("\n")) expect(line).toMatch(/^[A-Z_][A-Z0-9_]*=/);
    // systemd reads an unquoted value verbatim when it has no leading quote, no backslash and no
    // whitespace at either end: every value written satisfies that.
    for (const v of Object.values(expected)) expect(dotenvProblem("X", v)).toBeNull();
    if (kubectl) {
      const file = join(tempdir(), "svc.env");
      writeFileSync(file, r.stdout);
      const cm = parseYaml(
        execFileSync(
          "kubectl",
          ["create", "configmap", "svc", `--from-env-file=${file}`, "--dry-run=client", "-o", "yaml"],
          { encoding: "utf8" },
        ),
      );
      expect(cm.data).toEqual(expected);
    }
  });

  it.each([
    ["a line break", 'note: "line one\\nline two"', /line break/],
    ["a carriage return", 'note: "a\\rb"', /line break/],
    ["trailing whitespace", 'note: "value "', /leading or trailing whitespace/],
    ["leading whitespace", 'note: "\\tvalue"', /leading or trailing whitespace/],
    ["a leading double quote", "note: '\"quoted\"'", /leading quote/],
    ["a leading single quote", "note: \"'quoted'\"", /leading quote/],
    ["a backslash", "note: 'C:\\dir'", /backslash/],
    ["a NUL", 'note: "a\\0b"', /control character \(U\+0000\)/],
    ["an escape character", 'note: "a\\eb"', /control character \(U\+001B\)/],
  ])("refuses a value with %s, located, naming the key (exit 1)", async (_name, line, why) => {
    const dir = fixtureRepo({
      "schemas/svc.schema.yaml": PLAIN_SCHEMA,
      "environments/staging/svc.yaml": `name: ok\n${line}\n`,
    });
    const r = await strata(["resolve", "--repo", dir, "--env", "staging", "--format", "dotenv"]);
    expect(r.exitCode).toBe(1);
    expect(r.stdout).toBe("");
    expect(r.stderr).toContain("environments/staging/svc.yaml:2:7");
    expect(r.stderr).toContain("[unrepresentable-value] svc.note (SVC_NOTE)");
    expect(r.stderr).toMatch(why);
    expect(r.stderr).not.toMatch(/\n\s+at .+:\d+:\d+/);
  });

  it("refuses a line longer than docker's and kubectl's 64 KiB", async () => {
    const dir = fixtureRepo({
      "schemas/svc.schema.yaml": PLAIN_SCHEMA,
      "environments/staging/svc.yaml": `note: ${"x".repeat(70_000)}\n`,
    });
    const r = await strata(["resolve", "--repo", dir, "--env", "staging", "--format", "dotenv"]);
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toMatch(/svc\.note \(SVC_NOTE\) has a line longer than 65535 bytes/);
  });

  it("the shell env format is unchanged", async () => {
    const dir = fixtureRepo({
      "schemas/svc.schema.yaml": PLAIN_SCHEMA,
      "environments/staging/svc.yaml": "note: \"a\\nb 'c'\"\n",
    });
    const r = await strata(["resolve", "--repo", dir, "--env", "staging", "--format", "env", "--key", "svc"]);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe("SVC_NOTE='a\nb '\\''c'\\'''\n");
  });
});

describe("<sensitive> never reaches a tool unnoticed", () => {
  it.each(["yaml", "json", "dotenv"])(
    "resolve --format %s into a pipe with sensitive values exits 1 naming the keys",
    async (format) => {
      const r = await strata(["resolve", "--env", "production", "--format", format], withKey);
      expect(r.exitCode).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain("[sensitive-placeholder]");
      expect(r.stderr).toContain("database.password");
      expect(r.stderr).toMatch(/--show-secrets.*--redact/);
      expectNoSecret(r, `resolve --format ${format}`);
    },
  );

  it.each(["yaml", "json", "dotenv"])("--redact prints the placeholder on purpose (%s)", async (format) => {
    const r = await strata(["resolve", "--env", "production", "--format", format, "--redact"], withKey);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("<sensitive>");
    expectNoSecret(r, `resolve --format ${format} --redact`);
  });

  it("a selection without sensitive values needs nothing; --skip-secrets still needs --redact", async () => {
    const r = await strata(["resolve", "--env", "production", "--format", "dotenv", "--key", "database.pool"], withKey);
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toContain("DATABASE_POOL_MAX=100\n");
    const skipped = await strata(["resolve", "--env", "production", "--format", "json", "--skip-secrets"], withKey);
    expect(skipped.exitCode).toBe(1);
    expect(skipped.stderr).toMatch(/pass --redact/);
    expect(skipped.stderr).not.toMatch(/pass --show-secrets/);
  });

  it("--show-secrets prints the values (dotenv) and --redact with it is an invocation error", async () => {
    const r = await strata(
      ["resolve", "--env", "production", "--format", "dotenv", "--key", "database.password", "--show-secrets"],
      withKey,
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(r.stdout).toBe("DATABASE_PASSWORD=example-production-db-password-c91e\n");
    const both = await strata(["resolve", "--env", "production", "--show-secrets", "--redact"], withKey);
    expect(both.exitCode).toBe(2);
  });

  it("on a terminal the placeholder is printed for a person to read", async () => {
    const dir = tempdir();
    const out = join(dir, "typescript");
    // script(1) gives the CLI a pseudo-terminal as stdout.
    execFileSync(
      "script",
      ["-qec", `${JSON.stringify(process.execPath)} bin/strata.mjs resolve --env production --format json`, out],
      { env: { ...process.env, ...exampleKeyEnv, NO_COLOR: "1", GITHUB_ACTIONS: "" }, stdio: "ignore" },
    );
    const text = (await import("node:fs")).readFileSync(out, "utf8");
    expect(text).toContain('"password": "<sensitive>"');
    for (const s of PROD_SECRETS) expect(text).not.toContain(s);
  });
});

describe("resolve --format configmap|secret", () => {
  it("a ConfigMap of the non-sensitive values, valid against the Kubernetes schema", async () => {
    const r = await strata(
      ["resolve", "--env", "production", "--format", "configmap", "--name", "checkout-config", "--namespace", "shop"],
      withKey,
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = parseYaml(r.stdout);
    expect(() => new ConfigMap(doc).validate()).not.toThrow();
    expect(doc).toMatchObject({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: { name: "checkout-config", namespace: "shop" },
    });
    expect(doc.data.DATABASE_POOL_MAX).toBe("100");
    expect(doc.data.DATABASE_REPLICAS).toMatch(/^\[\{"name":"replica-a"/);
    for (const k of Object.keys(doc.data)) expect(k).toMatch(/^[-._a-zA-Z0-9]+$/);
    expect(doc.data).not.toHaveProperty("DATABASE_PASSWORD");
    expect(doc.data).not.toHaveProperty("CACHE_URL");
    expect(r.stderr).toMatch(/5 sensitive value\(s\) go in the Secret.*database\.password/);
    expectNoSecret(r, "configmap");
  });

  it("a Secret of the sensitive values only, base64 in data, valid against the Kubernetes schema", async () => {
    const r = await strata(
      ["resolve", "--env", "production", "--format", "secret", "--name", "checkout-secrets", "--show-secrets"],
      { env: { ...exampleKeyEnv, GITHUB_ACTIONS: "true" } },
    );
    expect(r.exitCode, r.stderr).toBe(0);
    const doc = parseYaml(r.stdout);
    expect(() => new Secret(doc).validate()).not.toThrow();
    expect(doc).toMatchObject({
      apiVersion: "v1",
      kind: "Secret",
      type: "Opaque",
      metadata: { name: "checkout-secrets" },
    });
    expect(Object.keys(doc.data).sort()).toEqual([
      "CACHE_AUTH_TOKEN",
      "CACHE_URL",
      "DATABASE_PASSWORD",
      "HTTP_API_TOKENS_PAYMENTS_PARTNER",
      "HTTP_API_TOKENS_SHIPPING_PARTNER",
    ]);
    expect(Buffer.from(doc.data.DATABASE_PASSWORD, "base64").toString()).toBe("example-production-db-password-c91e");
    expect(r.stdout).not.toContain("::add-mask::");
    const masks = r.stderr.split("\n").filter((l) => l.startsWith("::add-mask::"));
    expect(masks).toContain("::add-mask::example-production-db-password-c91e");
    expect(masks).toContain(`::add-mask::${doc.data.DATABASE_PASSWORD}`);
  });

  it.each([
    [["--format", "secret", "--name", "x"], /needs --show-secrets/],
    [["--format", "configmap"], /needs --name/],
    [["--format", "configmap", "--name", "Checkout_Config"], /not a Kubernetes name/],
    [["--format", "configmap", "--name", "ok", "--namespace", "a.b"], /not a Kubernetes namespace/],
    [["--format", "json", "--name", "ok"], /go with --format configmap or secret/],
  ])("%j is an invocation error (exit 2)", async (args, message) => {
    const r = await strata(["resolve", "--env", "production", ...args], withKey);
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toMatch(message);
    expectNoSecret(r, args.join(" "));
  });
});

describe("strata exec", () => {
  const printEnv =
    "process.stdout.write(JSON.stringify({ max: process.env.DATABASE_POOL_MAX ?? null, password: process.env.DATABASE_PASSWORD ?? null, keep: process.env.KEEP_ME ?? null }))";

  it("runs the command with the config as variables, secrets left out with a warning naming the keys", async () => {
    const r = await strata(["exec", "--env", "production", "--", process.execPath, "-e", printEnv], {
      env: { ...exampleKeyEnv, KEEP_ME: "yes" },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ max: "100", password: null, keep: "yes" });
    expect(r.stderr).toMatch(
      /5 sensitive value\(s\) left out of the environment \(.*database\.password.*\); pass --show-secrets/,
    );
    expectNoSecret(r, "exec");
  });

  it("--show-secrets includes them, with masks on stderr under GitHub Actions", async () => {
    const r = await strata(["exec", "--env", "production", "--show-secrets", "--", process.execPath, "-e", printEnv], {
      env: { ...exampleKeyEnv, GITHUB_ACTIONS: "true" },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).password).toBe("example-production-db-password-c91e");
    expect(r.stderr).toContain("::add-mask::example-production-db-password-c91e\n");
  });

  it("passes stdin through and the exit code back; a signal is 128+n", async () => {
    const echo = await strata(
      [
        "exec",
        "--env",
        "staging",
        "--",
        process.execPath,
        "-e",
        "process.stdin.pipe(process.stdout); process.stdin.on('end', () => { process.exitCode = 7 })",
      ],
      { ...withKey, input: "hello\n" },
    );
    expect(echo.stdout).toBe("hello\n");
    expect(echo.exitCode).toBe(7);
    const killed = await strata(
      ["exec", "--env", "staging", "--", process.execPath, "-e", "process.kill(process.pid, 'SIGTERM')"],
      withKey,
    );
    expect(killed.exitCode).toBe(128 + 15);
  });

  it("SIGTERM sent to strata reaches the command, whose exit code comes back", async () => {
    const { execa } = await import("execa");
    const script =
      "process.on('SIGTERM', () => process.exit(42)); process.stdout.write('ready\\n'); setInterval(() => {}, 1000)";
    const child = execa(process.execPath, [cliPath, "exec", "--env", "staging", "--", process.execPath, "-e", script], {
      env: { ...exampleKeyEnv, NO_COLOR: "1", GITHUB_ACTIONS: "" },
      cwd: projectRoot,
      reject: false,
      timeout: 60_000,
    });
    child.stdout!.on("data", (d: Buffer) => {
      if (String(d).includes("ready")) child.kill("SIGTERM");
    });
    const r = await child;
    expect(r.exitCode).toBe(42);
  });

  it("arguments reach the command exactly, with no shell", async () => {
    const r = await strata(
      [
        "exec",
        "--env",
        "staging",
        "--",
        process.execPath,
        "-e",
        "process.stdout.write(JSON.stringify(process.argv.slice(1)))",
        "$(touch /tmp/pwned)",
        "`id`",
        "--env",
        "*",
      ],
      withKey,
    );
    expect(r.exitCode, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(["$(touch /tmp/pwned)", "`id`", "--env", "*"]);
  });

  it("needs --; an unknown command is 127; a config that does not resolve runs nothing", async () => {
    const noDash = await strata(["exec", "--env", "staging", process.execPath], withKey);
    expect(noDash.exitCode).toBe(2);
    expect(noDash.stderr).toMatch(/needs -- and then the command/);
    const missing = await strata(["exec", "--env", "staging", "--", "strata-no-such-command"], withKey);
    expect(missing.exitCode).toBe(127);
    expect(missing.stderr).toMatch(/command not found/);
    const dir = fixtureRepo({ "environments/staging/app.yaml": "replicas: many\n" });
    const marker = join(tempdir(), "ran");
    const bad = await strata([
      "exec",
      "--repo",
      dir,
      "--env",
      "staging",
      "--",
      process.execPath,
      "-e",
      `require("fs").writeFileSync(${JSON.stringify(marker)}, "")`,
    ]);
    expect(bad.exitCode).toBe(1);
    expect(bad.stderr).toContain("environments/staging/app.yaml:1:11");
    expect((await import("node:fs")).existsSync(marker)).toBe(false);
  });
});
