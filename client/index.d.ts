// The declarations of `strata-config/client`: those of @strata-config/client, which it re-exports.
export * from "@strata-config/client";
