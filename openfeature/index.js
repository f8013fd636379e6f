// `strata-config/openfeature`: the OpenFeature provider, compiled from src/openfeature into dist/ (docs/openfeature.md).
// This directory is the entry so that resolvers without `exports` (TypeScript's node10) find it too.
export * from "../dist/openfeature/index.js";
