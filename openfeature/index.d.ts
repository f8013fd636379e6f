// The declarations of `strata-config/openfeature`: those of the provider in dist/, which it re-exports.
export * from "../dist/openfeature/index.js";
