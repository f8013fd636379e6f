// @module-tag e2e
// A change of recipients is a change: who can decrypt a snapshot's secrets is part of its content, so adding
// an age recipient to runtime.recipients publishes a new version the new recipient can open (real `age`).
import { execFileSync } from "node:child_process";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseSigningKey } from "../../src/core/snapshot/index.js";
import { exampleKeyEnv, noKeyEnv, projectRoot, strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { startTestServer, type TestServer } from "../support/server.js";
import { lacking } from "../support/shared.js";

const missing = lacking("a change of runtime recipients (the age CLI)", { tool: "age" });
const signingKeyFile = join(projectRoot, "examples/keys/EXAMPLE-ONLY-NOT-A-REAL-SIGNING-KEY.pem");
const RUNTIME = "age1s4zuzuny3lurh72kxt05legh22esvmqm2ugkfa24n7kaetl5xqjqp5dk8l";

let server: TestServer;
let repo: string;
beforeAll(async () => {
  server = await startTestServer({ trustedKeys: [parseSigningKey(readFileSync(signingKeyFile, "utf8")).publicKey] });
  repo = tempdir();
  for (const part of ["strata.yaml", ".sops.yaml", "schemas", "environments"])
    cpSync(join(projectRoot, part), join(repo, part), { recursive: true });
});
afterAll(async () => {
  await server?.server.close();
  cleanupTempdirs();
});

async function push(): Promise<{ status: string; version: number; contentDigest: string }> {
  const r = await strata(
    [
      "push",
      "--env",
      "staging",
      "--repo",
      repo,
      "--signing-key",
      signingKeyFile,
      "--endpoint",
      server.url,
      "--format",
      "json",
    ],
    { env: { ...noKeyEnv, ...exampleKeyEnv } },
  );
  expect(r.exitCode, r.stderr).toBe(0);
  const results = (JSON.parse(r.stdout) as { results: { status: string; version: number; contentDigest: string }[] })
    .results;
  return results[0]!;
}

describe.skipIf(missing)("push after a change of runtime.recipients", () => {
  it("publishes a new version that the added recipient decrypts; the same recipients again are unchanged", async () => {
    const first = await push();
    expect(first).toMatchObject({ status: "published", version: 1 });

    const dir = tempdir();
    const identityFile = join(dir, "new-service.age.txt");
    execFileSync("age-keygen", ["-o", identityFile], { stdio: "ignore" });
    const added = execFileSync("age-keygen", ["-y", identityFile], { encoding: "utf8" }).trim();
    const settings = readFileSync(join(repo, "strata.yaml"), "utf8");
    const line = `    staging: [${RUNTIME}]`;
    expect(settings).toContain(line);
    writeFileSync(join(repo, "strata.yaml"), settings.replace(line, `    staging: [${RUNTIME}, ${added}]`));

    const second = await push();
    expect(second.status).toBe("published");
    expect(second.version).toBe(2);
    expect(second.contentDigest).not.toBe(first.contentDigest);

    // The new service's identity opens the published secrets: its age stanza is there, and `age` decrypts it.
    const served = (await (await fetch(`${server.url}/v1/environments/staging/snapshot`)).json()) as {
      secrets: { sops: { age: { recipient: string; enc: string }[] } };
    };
    const stanza = served.secrets.sops.age.find((a) => a.recipient === added);
    expect(stanza).toBeDefined();
    const dataKey = execFileSync("age", ["--decrypt", "-i", identityFile], { input: stanza!.enc });
    expect(dataKey.length).toBe(32);

    // The same recipients in another order decide nothing new: unchanged.
    writeFileSync(join(repo, "strata.yaml"), settings.replace(line, `    staging: [${added}, ${RUNTIME}]`));
    const third = await push();
    expect(third).toMatchObject({ status: "unchanged", version: 2, contentDigest: second.contentDigest });
  });
});
