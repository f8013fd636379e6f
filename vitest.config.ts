import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    globalSetup: ["test/support/global-setup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Tests spawn the built CLI, git, age, gpg, etcd: two cores, so keep parallelism modest.
    pool: "forks",
    maxWorkers: 2,
    env: { STRATA_CACHE_DIR: `${process.env.TMPDIR ?? "/tmp"}/strata-test-cache-${process.pid}`, GIT_CONFIG_GLOBAL: "/dev/null", GIT_CONFIG_NOSYSTEM: "1", NO_COLOR: "1" },
  },
});
