export * from "./canonical.js";
export * from "./keys.js";
export * from "./snapshot.js";
export * from "./secrets.js";
