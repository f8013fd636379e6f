// `strata-config/client` is the SDK package, @strata-config/client (packages/client), re-exported: a service
// that needs only the SDK depends on that package and gets none of the CLI's dependencies.
export * from "@strata-config/client";
