// @module-tag e2e
// Least privilege per service (docs/distribution.md, "Services"): a service's snapshot holds only the namespaces
// it declares, and its secrets open only with its own identity or the break-glass runtime identity (real `age`);
// a change reaches only the services that declare the namespace.
import { execFileSync } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Snapshot } from "../../src/core/snapshot/index.js";
import { exampleKeyEnv, noKeyEnv, projectRoot, strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { servicesExample } from "../support/services.js";
import { lacking } from "../support/shared.js";

const missing = lacking("services' snapshots (the age CLI)", { tool: "age" });
const signingKeyFile = join(projectRoot, "examples/keys/EXAMPLE-ONLY-NOT-A-REAL-SIGNING-KEY.pem");
const runtimeKeyFile = join(projectRoot, "examples/keys/EXAMPLE-ONLY-NOT-A-REAL-KEY.runtime.age.txt");

let repo: string;
const identity: Record<string, string> = {};
const recipient: Record<string, string> = {};
beforeAll(() => {
  repo = tempdir();
  for (const part of ["strata.yaml", ".sops.yaml", "schemas", "environments"])
    cpSync(join(projectRoot, part), join(repo, part), { recursive: true });
  const keys = tempdir();
  // The worked example of docs/distribution.md, with these identities' recipients.
  const example = servicesExample(keys, identity, recipient);
  const settings = readFileSync(join(repo, "strata.yaml"), "utf8").replace("signing:\n", `${example}signing:\n`);
  writeFileSync(join(repo, "strata.yaml"), settings);
});
afterAll(cleanupTempdirs);

async function snapshotOf(service: string): Promise<Snapshot> {
  const r = await strata(["snapshot", "--env", "production", "--service", service, "--signing-key", signingKeyFile], {
    cwd: repo,
    env: { ...noKeyEnv, ...exampleKeyEnv },
  });
  expect(r.exitCode, r.stderr).toBe(0);
  return JSON.parse(r.stdout) as Snapshot;
}

/** The data key of a snapshot's secrets, opened by the real `age` with one identity; null when it cannot. */
function openWith(snapshot: Snapshot, identityFile: string): Buffer | null {
  const stanzas = (snapshot.secrets as unknown as { sops: { age: { enc: string }[] } }).sops.age;
  for (const { enc } of stanzas) {
    try {
      return execFileSync("age", ["--decrypt", "-i", identityFile], { input: enc, stdio: ["pipe", "pipe", "ignore"] });
    } catch {
      // not this stanza's recipient
    }
  }
  return null;
}

describe.skipIf(missing)("a snapshot per environment and service", () => {
  it("holds only the service's namespaces, signed, with its name", async () => {
    const checkout = await snapshotOf("checkout");
    expect(checkout).toMatchObject({ environment: "production", service: "checkout", version: 1 });
    expect(Object.keys(checkout.config).sort()).toEqual(["database", "http"]);
    const marketing = await snapshotOf("marketing");
    expect(Object.keys(marketing.config).sort()).toEqual(["cache", "http"]);
    expect(Object.keys(marketing.secrets!).sort()).toEqual(["cache", "http", "sops"]);
    expect(Object.keys(checkout.secrets!).sort()).toEqual(["database", "http", "sops"]);

    const file = join(tempdir(), "checkout.json");
    writeFileSync(file, JSON.stringify(checkout));
    const verified = await strata(["snapshot", "verify", file, "--format", "json"], {
      cwd: repo,
      env: { ...noKeyEnv, SOPS_AGE_KEY_FILE: identity.checkout },
    });
    expect(verified.exitCode, verified.stderr).toBe(0);
    expect(JSON.parse(verified.stdout)).toMatchObject({
      environment: "production",
      service: "checkout",
      secrets: { status: "verified" },
    });
  });

  it("encrypts each service's secrets to its own identity and the break-glass one, never another service's", async () => {
    const checkout = await snapshotOf("checkout");
    const marketing = await snapshotOf("marketing");
    expect(openWith(checkout, identity.checkout!)).not.toBeNull();
    expect(openWith(marketing, identity.marketing!)).not.toBeNull();
    expect(openWith(checkout, identity.marketing!)).toBeNull();
    expect(openWith(marketing, identity.checkout!)).toBeNull();
    expect(openWith(checkout, runtimeKeyFile)).not.toBeNull();
    expect(openWith(marketing, runtimeKeyFile)).not.toBeNull();
  });

  it("a change to a shared namespace changes both services' content; to one service's own namespace, only its", async () => {
    const before = { checkout: await snapshotOf("checkout"), marketing: await snapshotOf("marketing") };
    const file = join(repo, "environments/production/database.yaml");
    writeFileSync(file, readFileSync(file, "utf8").replace("  min: 10\n", "  min: 11\n"));
    const own = { checkout: await snapshotOf("checkout"), marketing: await snapshotOf("marketing") };
    expect(own.checkout.contentDigest).not.toBe(before.checkout.contentDigest);
    expect(own.marketing.contentDigest).toBe(before.marketing.contentDigest);

    const http = join(repo, "environments/production/http.yaml");
    writeFileSync(http, readFileSync(http, "utf8").replace("requests_per_minute: 6000", "requests_per_minute: 6001"));
    const shared = { checkout: await snapshotOf("checkout"), marketing: await snapshotOf("marketing") };
    expect(shared.checkout.contentDigest).not.toBe(own.checkout.contentDigest);
    expect(shared.marketing.contentDigest).not.toBe(own.marketing.contentDigest);
  });

  it("a service the environment does not run is an error naming the services it runs", async () => {
    const r = await strata(
      ["snapshot", "--env", "staging", "--service", "marketing", "--signing-key", signingKeyFile],
      {
        cwd: repo,
        env: { ...noKeyEnv, ...exampleKeyEnv },
      },
    );
    expect(r.exitCode).toBe(2);
    expect(r.stderr).toContain('staging runs no service "marketing"');
    expect(r.stderr).toContain("services of staging in strata.yaml: checkout");
  });
});
