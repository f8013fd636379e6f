export { startAgent } from "./agent.js";
export type { AgentLog, AgentOptions, AgentOutput, RunningAgent } from "./agent.js";
export { formatForPath, OUTPUT_FORMATS, renderOutput, type OutputFormat } from "./render.js";
