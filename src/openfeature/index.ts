/**
 * `strata-config/openfeature`: an OpenFeature provider (Node, `@openfeature/server-sdk`) that serves the
 * configuration of a strata client as flags. It imports the SDK by its package name and types only, so a
 * service has one copy of it; docs/openfeature.md is its manual.
 */
export { StrataProvider } from "./provider.js";
export type { AnyStrataClient } from "./provider.js";
