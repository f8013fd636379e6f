import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    // The machine these run on is shared (load averages of 30–50 are normal): a limit is there to stop a hung
    // test, not to judge speed (no test asserts a duration), so it is far above any test's time at rest.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // A file's tags (`// @module-tag e2e` at its top) say why it is slow; `npm run test:fast` leaves both out.
    tags: [
      {
        name: "e2e",
        description:
          "spawns the built CLI, a daemon (etcd, strata serve) or an external tool (eslint, the repository generator)",
        timeout: 180_000,
      },
      {
        name: "slow",
        description: "in-process, but builds many real git repositories or runs property tests",
        timeout: 120_000,
      },
    ],
    // Tests spawn the built CLI, git, age, gpg, etcd: two cores, so keep parallelism modest.
    pool: "forks",
    maxWorkers: 2,
    env: {
      STRATA_CACHE_DIR: `${process.env.TMPDIR ?? "/tmp"}/strata-test-cache-${process.pid}`,
      GIT_CONFIG_GLOBAL: "/dev/null",
      GIT_CONFIG_NOSYSTEM: "1",
      NO_COLOR: "1",
    },
  },
});
