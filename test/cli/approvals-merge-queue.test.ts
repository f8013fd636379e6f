// @module-tag e2e
// In a merge queue (the workflow's merge_group trigger) the approvals gate evaluates the queued pull request
// and sets strata/approvals on the queue's commit as well: a required status must be on that commit, or the
// queue waits for it forever.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, afterEach, beforeEach, describe, expect, it } from "vitest";
import { strata } from "../support/cli.js";
import { cleanupTempdirs, tempdir } from "../support/gitdir.js";
import { addReviews, startFakeGitHub, type FakeGitHub } from "../support/github-server.js";

const BASE = "a".repeat(40);
const HEAD = "b".repeat(40);
const QUEUE = "c".repeat(40);
const RULES = `version: 1
environments:
  production: { production: true }
approvals:
  rules:
    - name: production
      when: { environments: ["production*"] }
      require: 1
      from: ["@acme/sre"]
`;
const DIFF = {
  schemaVersion: 1,
  base: BASE,
  head: HEAD,
  changedLayers: [],
  environments: {
    production: {
      renamedFrom: null,
      status: "changed",
      production: true,
      changes: [
        {
          key: "http.timeout",
          change: "changed",
          before: 10,
          after: 20,
          sensitive: false,
          layer: null,
          flags: [],
          owner: null,
          approvers: [],
        },
      ],
      invalid: [],
    },
  },
};

let gh: FakeGitHub;
let dir: string;
beforeEach(async () => {
  gh = await startFakeGitHub();
  gh.state.files.set(BASE, { "strata.yaml": RULES });
  gh.state.teams.set("acme/sre", ["sre1"]);
  gh.state.pulls.set(7, {
    number: 7,
    author: "dev",
    title: "Raise the timeout",
    head: { sha: HEAD },
    base: { sha: BASE },
  });
  dir = tempdir();
  writeFileSync(join(dir, "diff.json"), JSON.stringify(DIFF));
  // The merge_group payload GitHub sends: the queue's branch names the pull request.
  writeFileSync(
    join(dir, "event.json"),
    JSON.stringify({
      action: "checks_requested",
      merge_group: {
        head_sha: QUEUE,
        head_ref: "refs/heads/gh-readonly-queue/main/pr-7-bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb",
        base_sha: BASE,
        base_ref: "refs/heads/main",
      },
    }),
  );
});
afterEach(() => gh.close());
afterAll(() => cleanupTempdirs());

describe("approvals check on a merge_group event", () => {
  it("evaluates the queued pull request and sets the status on its head and on the queue's commit", async () => {
    addReviews(gh.state, 7, [{ login: "sre1", state: "APPROVED", commitId: HEAD }]);
    const r = await strata(["approvals", "check", "--diff", join(dir, "diff.json")], {
      cwd: dir,
      env: {
        GITHUB_TOKEN: "test-token",
        GITHUB_REPOSITORY: "acme/config",
        GITHUB_API_URL: gh.url,
        GITHUB_EVENT_NAME: "merge_group",
        GITHUB_EVENT_PATH: join(dir, "event.json"),
        GITHUB_STEP_SUMMARY: join(dir, "summary.md"),
      },
    });
    expect(r.exitCode, r.stderr).toBe(0);
    for (const sha of [HEAD, QUEUE])
      expect(gh.state.statuses.get(sha)?.at(-1), sha).toMatchObject({ state: "success", context: "strata/approvals" });
  });
});
