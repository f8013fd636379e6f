/**
 * strata's version, for what must know it without reading package.json (core is pure): the documentation
 * links. `npm version` rewrites it with package.json's (scripts/sync-version.mjs, the `version` script),
 * and test/package/version.test.ts holds the two equal.
 */
export const VERSION = "0.1.0";
