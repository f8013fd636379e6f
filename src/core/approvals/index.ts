export * from "./config.js";
export * from "./match.js";
export * from "./evaluate.js";
export * from "./from-diff.js";
export * from "./markdown.js";
export * from "./comment.js";
