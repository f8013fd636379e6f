// @module-tag slow
// `strata push` reads strata.yaml once, through the repository's files, and passes what it read to every
// step (the endpoint, the trusted keys, each environment's build): counted through the RepoFiles seam.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { runPush } from "../../src/cli/commands/push.js";
import type { RepoFiles } from "../../src/core/source.js";
import { createWorktreeFiles } from "../../src/io/repo/worktree.js";
import { cleanupTempdirs, gitdir } from "../support/gitdir.js";
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
afterEach(() => {
  process.exitCode = undefined;
  vi.restoreAllMocks();
});

/** The working tree's files, counting each path read. */
function countingFiles(root: string): { files: RepoFiles; reads: Map<string, number> } {
  const inner = createWorktreeFiles(root);
  const reads = new Map<string, number>();
  return {
    reads,
    files: {
      label: inner.label,
      list: (prefixes) => inner.list(prefixes),
      read: (path) => {
        reads.set(path, (reads.get(path) ?? 0) + 1);
        return inner.read(path);
      },
    },
  };
}

describe("strata push", () => {
  it("reads strata.yaml once for every environment it publishes", async () => {
    const root = gitdir({
      "strata.yaml": `version: 1\nenvironments:\n  base: { abstract: true }\n  staging: { parent: base }\n  production: { parent: base }\n  qa: { parent: staging }\nsigning:\n  trusted_keys: ["${key.publicKey.text}"]\ndistribution:\n  endpoint: ${server.url}\n  expires_after: 2d\n`,
      "schemas/app.schema.yaml":
        "type: object\nadditionalProperties: false\nproperties:\n  replicas: { type: integer, default: 1 }\n",
      "environments/staging/app.yaml": "replicas: 2\n",
      "environments/production/app.yaml": "replicas: 3\n",
      ".gitignore": "*.pem\n",
    });
    writeFileSync(join(root, "key.pem"), pem, { mode: 0o600 });
    const out = vi.spyOn(process.stdout, "write").mockImplementation(() => true);
    const { files, reads } = countingFiles(root);
    await runPush({ all: true, signingKey: join(root, "key.pem"), format: "json" }, { root, files });
    const report = JSON.parse(out.mock.calls.map((c) => String(c[0])).join("")) as {
      ok: boolean;
      results: { environment: string; status: string }[];
    };
    expect(report.ok).toBe(true);
    expect(report.results.map((r) => [r.environment, r.status])).toEqual([
      ["staging", "published"],
      ["production", "published"],
      ["qa", "published"],
    ]);
    expect(reads.get("strata.yaml")).toBe(1);
    // Each values file is still read for the environments whose chain holds it, no more.
    expect(reads.get("environments/staging/app.yaml")).toBe(2);
  });
});
