export * from "./api.js";
export * from "./client.js";
export * from "./env.js";
export * from "./sticky.js";
