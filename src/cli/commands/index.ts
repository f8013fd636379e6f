import type { Command } from "commander";

/** A command module adds its subcommand to the program; it is imported only when it runs. */
export interface CommandModule {
  register(program: Command): void;
}
export type Loader = () => Promise<CommandModule>;

/**
 * Every top-level command and the module that defines it. Only the named command's module is loaded
 * (changesets, vitest): start-up stays close to bare Node.
 */
export const commands = {
  validate: () => import("./validate.js"),
  resolve: () => import("./resolve.js"),
  exec: () => import("./exec.js"),
  envs: () => import("./envs.js"),
  explain: () => import("./explain.js"),
  init: () => import("./init.js"),
  secrets: () => import("./secrets.js"),
  diff: () => import("./diff.js"),
  log: () => import("./log.js"),
  approvals: () => import("./approvals.js"),
  pr: () => import("./pr.js"),
  keys: () => import("./keys.js"),
  serve: () => import("./serve.js"),
  snapshot: () => import("./snapshot.js"),
  push: () => import("./push.js"),
  rollback: () => import("./rollback.js"),
  impact: () => import("./impact.js"),
  history: () => import("./history.js"),
  status: () => import("./status.js"),
  rollout: () => import("./rollout.js"),
  agent: () => import("./agent.js"),
  typegen: () => import("./typegen.js"),
  schema: () => import("./schema.js"),
  completion: () => import("./completion.js"),
  version: () => import("./version.js"),
} satisfies Record<string, Loader>;
