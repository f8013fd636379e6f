// @module-tag e2e
// The result cache of `strata resolve` (docs/performance.md): a repeated resolve answers from the cache,
// any change to a file of the chain, a schema, the file list or strata.yaml gives a fresh answer, and no
// secret is ever written to it.
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { exampleKeyEnv, projectRoot, strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { fixtureRepo } from "../support/repo-fixture.js";

afterAll(cleanupTempdirs);

function results(cache: string): string[] {
  const dir = join(cache, "resolved", "results");
  return existsSync(dir)
    ? readdirSync(dir)
        .filter((f) => f.endsWith(".json"))
        .map((f) => join(dir, f))
    : [];
}

async function resolveJson(
  repo: string,
  env: string,
  cache: string,
  extra: string[] = [],
  envVars: Record<string, string | undefined> = {},
): Promise<{ exitCode: number; config: unknown; stderr: string; stdout: string }> {
  const r = await strata(["resolve", "--repo", repo, "--env", env, "--format", "json", ...extra], {
    env: { STRATA_CACHE_DIR: cache, ...envVars },
  });
  return {
    exitCode: r.exitCode,
    config: r.exitCode === 0 ? JSON.parse(r.stdout) : null,
    stderr: r.stderr,
    stdout: r.stdout,
  };
}

describe("resolve result cache", () => {
  it("a repeated resolve answers the same from one cache entry", async () => {
    const repo = fixtureRepo();
    const cache = tempdir();
    const first = await resolveJson(repo, "production", cache);
    expect(first.exitCode).toBe(0);
    expect(results(cache)).toHaveLength(1);
    // The entry is what the second run prints: make it recognisable, and see it come back.
    const [entry] = results(cache);
    const stored = JSON.parse(readFileSync(entry!, "utf8")) as { config: { app: { name: string } } };
    expect(stored.config.app.name).toBe("checkout");
    stored.config.app.name = "from-the-cache";
    writeFileSync(entry!, JSON.stringify(stored));
    const second = await resolveJson(repo, "production", cache);
    expect(second.exitCode).toBe(0);
    expect((second.config as { app: { name: string } }).app.name).toBe("from-the-cache");
    // YAML output reads the same entry.
    const yaml = await strata(["resolve", "--repo", repo, "--env", "production"], { env: { STRATA_CACHE_DIR: cache } });
    expect(yaml.stdout).toContain("name: from-the-cache");
  });

  it("a change to a chain file, a schema, the file list or strata.yaml is a new key; other environments' files are not", async () => {
    const repo = fixtureRepo();
    const cache = tempdir();
    const run = async (): Promise<unknown> => (await resolveJson(repo, "production", cache)).config;
    expect(await run()).toEqual({ app: { name: "checkout", replicas: 3, mode: "safe", pool: { max: 5 } } });

    writeFileSync(join(repo, "environments/production/app.yaml"), "replicas: 4\n");
    expect(await run()).toMatchObject({ app: { replicas: 4 } });

    writeFileSync(join(repo, "environments/base/app.yaml"), "name: payments\n");
    expect(await run()).toMatchObject({ app: { name: "payments", replicas: 4 } });

    writeFileSync(
      join(repo, "schemas/app.schema.yaml"),
      readFileSync(join(repo, "schemas/app.schema.yaml"), "utf8").replace("default: safe", "default: fast"),
    );
    expect(await run()).toMatchObject({ app: { mode: "fast" } });

    // A new namespace's schema and values.
    writeFileSync(
      join(repo, "schemas/web.schema.yaml"),
      "type: object\nproperties:\n  port: { type: integer, default: 80 }\n",
    );
    expect(await run()).toMatchObject({ web: { port: 80 } });
    writeFileSync(join(repo, "environments/production/web.yaml"), "port: 8080\n");
    expect(await run()).toMatchObject({ web: { port: 8080 } });

    // A new parent in strata.yaml changes the chain.
    writeFileSync(
      join(repo, "strata.yaml"),
      "version: 1\nenvironments:\n  base: { abstract: true }\n  staging: { parent: base }\n  production: { parent: staging, production: true }\n",
    );
    mkdirSync(join(repo, "environments/staging"), { recursive: true });
    writeFileSync(join(repo, "environments/staging/web.yaml"), "port: 9090\n");
    writeFileSync(join(repo, "environments/staging/app.yaml"), "mode: safe\n");
    expect(await run()).toMatchObject({ app: { mode: "safe" }, web: { port: 8080 } });
    rmSync(join(repo, "environments/production/web.yaml"));
    expect(await run()).toMatchObject({ web: { port: 9090 } });

    // A file of an environment outside the chain does not change production's answer or its key.
    const before = results(cache).length;
    writeFileSync(
      join(repo, "strata.yaml"),
      "version: 1\nenvironments:\n  base: { abstract: true }\n  staging: { parent: base }\n  production: { parent: base, production: true }\n",
    );
    await run();
    const entries = results(cache).length;
    expect(entries).toBe(before + 1);
    writeFileSync(join(repo, "environments/staging/app.yaml"), "mode: fast\n");
    expect(await run()).toMatchObject({ app: { mode: "fast" } }); // the schema default, not staging's value
    expect(results(cache).length).toBe(entries);
  });

  it("findings come back from the cache too, with the same exit code", async () => {
    const repo = fixtureRepo({ "environments/production/app.yaml": "replicas: 30\n" });
    const cache = tempdir();
    const first = await resolveJson(repo, "production", cache);
    const second = await resolveJson(repo, "production", cache);
    expect(first.exitCode).toBe(1);
    expect(second.exitCode).toBe(1);
    expect(second.stderr).toBe(first.stderr);
    expect(second.stdout).toBe("");
  });

  it("never stores a secret: no entry for a chain with an encrypted file or a config with a sensitive value", async () => {
    const cache = tempdir();
    const secretsOut = await strata(
      ["secrets", "decrypt", "--format", "json", "environments/production/database.sops.yaml"],
      { env: exampleKeyEnv },
    );
    expect(secretsOut.exitCode).toBe(0);
    const secretValues = Object.values(JSON.parse(secretsOut.stdout) as Record<string, unknown>).flatMap((v) =>
      typeof v === "string"
        ? [v]
        : typeof v === "object" && v
          ? Object.values(v).filter((x): x is string => typeof x === "string")
          : [],
    );
    expect(secretValues.length).toBeGreaterThan(0);
    for (const extra of [["--redact"], ["--show-secrets"], ["--skip-secrets", "--redact"]]) {
      const r = await resolveJson(projectRoot, "production", cache, extra, exampleKeyEnv);
      expect(r.exitCode).toBe(0);
    }
    expect(results(cache)).toEqual([]);

    // A sensitive key set in a plain file (an error, but a value all the same) is not stored either.
    const repo = fixtureRepo({ "environments/production/app.yaml": "replicas: 3\npassword: hunter2-in-plain-text\n" });
    await resolveJson(repo, "production", cache);
    await resolveJson(repo, "production", cache);
    for (const f of results(cache)) expect(readFileSync(f, "utf8")).not.toContain("hunter2-in-plain-text");
    const walk = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(join(d, e.name)) : [join(d, e.name)],
      );
    // Nothing anywhere in the cache holds a value of an encrypted file.
    for (const f of walk(cache)) {
      const text = readFileSync(f, "utf8");
      for (const s of secretValues) expect(text, f).not.toContain(s);
    }
  });

  it("STRATA_NO_CACHE=1 writes nothing", async () => {
    const repo = fixtureRepo();
    const cache = tempdir();
    const r = await resolveJson(repo, "production", cache, [], { STRATA_NO_CACHE: "1" });
    expect(r.exitCode).toBe(0);
    expect(results(cache)).toEqual([]);
  });
});
