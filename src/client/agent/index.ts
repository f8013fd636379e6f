export { startAgent } from "./agent.js";
export { formatForPath } from "./render.js";
