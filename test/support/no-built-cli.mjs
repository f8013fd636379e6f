#!/usr/bin/env node
// The CLI as the fast tier sees it (`npm run test:fast` builds no dist/, test/support/global-setup.ts):
// a test that runs the CLI there is missing its e2e tag, and fails saying so instead of testing a stale dist/.
process.stderr.write(
  "the fast tier (npm run test:fast) does not build dist/: a test file that runs the built CLI must be tagged `// @module-tag e2e` (test/lint/suite-tags.test.ts)\n",
);
process.exitCode = 70;
