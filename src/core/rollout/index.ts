export * from "./units.js";
export * from "./freeze.js";
export * from "./promql.js";
export * from "./policy.js";
