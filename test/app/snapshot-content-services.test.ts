// Services' snapshot contents from one resolution of an environment: each slice holds its namespaces'
// values and only the encrypted files of those namespaces; secrets open with the break-glass identity.
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildSnapshotContents } from "../../src/app/snapshot-content.js";
import { createSecretsOpener } from "../../src/app/secrets/opener.js";
import { exampleKeyEnv, projectRoot } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";

afterAll(cleanupTempdirs);
const runtimeKey = join(projectRoot, "examples/keys/EXAMPLE-ONLY-NOT-A-REAL-KEY.runtime.age.txt");

describe("buildSnapshotContents", () => {
  it("slices one resolution per service: namespaces, secret sources, recipients", async () => {
    const dir = tempdir();
    for (const p of ["schemas", "environments", ".sops.yaml", "strata.yaml"])
      cpSync(join(projectRoot, p), join(dir, p), { recursive: true });
    const settings = readFileSync(join(dir, "strata.yaml"), "utf8");
    writeFileSync(
      join(dir, "strata.yaml"),
      settings.replace(
        "signing:\n",
        "services:\n  web:\n    namespaces: [http, features]\n  jobs:\n    namespaces: [cache]\nsigning:\n",
      ),
    );
    const contents = await buildSnapshotContents({
      repoDir: dir,
      environment: "production",
      services: [null, "web", "jobs"],
      env: { ...process.env, ...exampleKeyEnv },
    });
    const all = contents.get(null)!;
    const web = contents.get("web")!;
    const jobs = contents.get("jobs")!;
    expect(Object.keys(all.config).sort()).toEqual(["cache", "database", "features", "http", "observability"]);
    expect(Object.keys(web.config).sort()).toEqual(["features", "http"]);
    expect(web.config.http).toEqual(all.config.http);
    expect(web.secretSources.map(([p]) => p)).toEqual(["environments/production/http.sops.yaml"]);
    expect(jobs.secretSources.map(([p]) => p)).toEqual(["environments/production/cache.sops.yaml"]);
    // No recipients of its own: only the break-glass runtime.recipients, which opens it.
    expect(web.recipients).toEqual(all.recipients);
    const opened = await createSecretsOpener({ env: { SOPS_AGE_KEY_FILE: runtimeKey, HOME: "/nonexistent" } }).open(
      "snapshot.json",
      new TextEncoder().encode(JSON.stringify(web.secrets)),
    );
    expect(Object.keys(opened as object)).toEqual(["http"]);
  });
});
