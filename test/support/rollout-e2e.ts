// The end-to-end rollout tests' shared fixture: a git repository (optionally with a bare origin, for revert pull
// requests) whose strata.yaml gives production a canary policy, the real `strata serve` (the built CLI) running
// rollouts with a rollout key, v1 pushed with `strata push` and read by the whole fleet, then one change pushed:
// the canary starts and each instance reads the version the plan gives it, as the SDK would.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "vitest";
import { versionFor, type RolloutPlan } from "../../src/core/rollout/index.js";
import { strata } from "./cli.js";
import { commitAll, git, tempdir, writeTree } from "./gitdir.js";
import { BASE_REPO } from "./repo-fixture.js";
import { spawnServe, type ServeProcess } from "./serve.js";
import { newKey } from "./snapshots.js";

/** Who commits in these repositories, whatever the machine's git configuration says. */
export const GIT_IDENTITY = {
  GIT_CONFIG_GLOBAL: "/dev/null",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_AUTHOR_NAME: "Release Bot",
  GIT_AUTHOR_EMAIL: "release@example.com",
  GIT_COMMITTER_NAME: "Release Bot",
  GIT_COMMITTER_EMAIL: "release@example.com",
};

/** `strata push --env production` of `repo` with the built CLI; fails the test on a non-zero exit. */
export async function pushProduction(endpoint: string, signingFile: string, repo: string): Promise<void> {
  const r = await strata([
    "push",
    "--env",
    "production",
    "--endpoint",
    endpoint,
    "--signing-key",
    signingFile,
    "--repo",
    repo,
  ]);
  expect(r.exitCode, r.stderr).toBe(0);
}

/** A client's read of production, identified as the SDK does: the fleet record the endpoint keeps. */
async function readAs(endpoint: string, service: string, instance: string, version: number): Promise<void> {
  const res = await fetch(`${endpoint}/v1/environments/production/snapshot`, {
    headers: { "strata-client": `service=${service}; instance=${instance}; version=${version}; kind=sdk` },
  });
  await res.body?.cancel();
  expect(res.status).toBe(200);
}

export interface CanaryFixture {
  serve: ServeProcess;
  /** The working clone (with `origin` its bare origin when asked for). */
  repo: string;
  origin: string | null;
  signingFile: string;
  /** The commit of the change the canary runs. */
  change: string;
  /** Which version the plan gives each instance. */
  assigned: Map<string, number>;
  push(): Promise<void>;
  read(instance: string, version: number): Promise<void>;
}

/**
 * Starts the canary: `gates` are strata.yaml gate lines (YAML flow maps) of production's `canary: { percent:
 * 50 }` policy; `change` is the new text of environments/production/app.yaml. The plan's boundary is calibrated
 * on the fleet the endpoint knows, so exactly half of `instances` run the candidate.
 */
export async function startCanary(options: {
  service: string;
  instances: string[];
  gates: string[];
  change: { text: string; message: string };
  withOrigin?: boolean;
}): Promise<CanaryFixture> {
  const signing = newKey();
  const rolloutKey = newKey();
  const dir = tempdir();
  const signingFile = join(dir, "signing.pem");
  writeFileSync(signingFile, signing.pem, { mode: 0o600 });
  const rolloutFile = join(dir, "rollout.pem");
  writeFileSync(rolloutFile, rolloutKey.pem, { mode: 0o600 });
  const repo = join(dir, "work");
  let origin: string | null = null;
  if (options.withOrigin === true) {
    origin = join(dir, "origin.git");
    git(dir, "init", "-q", "--bare", "-b", "main", origin);
    git(dir, "clone", "-q", origin, repo);
  }
  writeTree(repo, {
    ...BASE_REPO,
    "strata.yaml": [
      "version: 1",
      "environments:",
      "  base: { abstract: true }",
      "  staging: { parent: base }",
      "  production: { parent: base, production: true }",
      "signing:",
      `  trusted_keys: ["${signing.key.publicKey.text}"]`,
      "rollouts:",
      `  trusted_keys: ["${rolloutKey.key.publicKey.text}"]`,
      "  environments:",
      "    production:",
      "      canary: { percent: 50, bake: 1h }",
      "      gates:",
      ...options.gates.map((g) => `        - ${g}`),
      "",
    ].join("\n"),
  });
  if (origin === null) git(repo, "init", "-q", "-b", "main");
  const publishCommit = (message: string): string => {
    const sha = commitAll(repo, message);
    if (origin !== null) git(repo, "push", "-q", "origin", "main");
    return sha;
  };
  publishCommit("production with a canary policy");
  const serve = await spawnServe([
    "--store",
    `file:${join(dir, "store")}`,
    "--repo",
    repo,
    "--rollout-key",
    rolloutFile,
    "--rollout-interval",
    "200ms",
  ]);
  const push = () => pushProduction(serve.url, signingFile, repo);
  const read = (instance: string, version: number) => readAs(serve.url, options.service, instance, version);
  await push(); // v1: everyone
  for (const i of options.instances) await read(i, 1);
  writeFileSync(join(repo, "environments/production/app.yaml"), options.change.text);
  const change = publishCommit(options.change.message);
  await push(); // v2: the canary starts
  const plan = (await (await fetch(`${serve.url}/v1/environments/production/plan`)).json()) as RolloutPlan;
  expect(plan).toMatchObject({ phase: "progressing", stable: { version: 1 }, candidate: { version: 2 } });
  const assigned = new Map<string, number>();
  for (const i of options.instances) {
    const version = versionFor(plan, { instance: i }).ref.version;
    assigned.set(i, version);
    await read(i, version);
  }
  return { serve, repo, origin, signingFile, change, assigned, push, read };
}
