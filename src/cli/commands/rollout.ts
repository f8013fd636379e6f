import type { Command } from "commander";
import {
  actOnRollout,
  createEndpointClient,
  readRollout,
  renderRolloutStatus,
  resolveEndpointUrl,
} from "../../app/distribution/index.js";
import type { RolloutStatusDocument } from "../../core/protocol/index.js";
import { printJson } from "../common.js";
import { print, printData } from "../output.js";
import { attachAction, attachCommand } from "../spec.js";
import {
  rolloutAbortCommand,
  rolloutCommand,
  rolloutPauseCommand,
  rolloutPromoteCommand,
  rolloutResumeCommand,
  rolloutStatusCommand,
} from "../table.js";

function show(doc: RolloutStatusDocument, format: "text" | "json"): void {
  if (format === "json") printData(printJson(doc));
  else print(renderRolloutStatus(doc));
}

export function register(program: Command): void {
  attachCommand(program, rolloutCommand);
  attachAction(program, rolloutStatusCommand, async (opts) => {
    const url = await resolveEndpointUrl({ flag: opts.endpoint, repoDir: opts.repo ?? process.cwd() });
    const endpoint = createEndpointClient({ url: url!, token: process.env.STRATA_TOKEN });
    show(await readRollout({ endpoint, environment: opts.env, service: opts.service }), opts.format);
  });
  const actions = [
    [rolloutPauseCommand, "pause"],
    [rolloutResumeCommand, "resume"],
    [rolloutAbortCommand, "abort"],
    [rolloutPromoteCommand, "promote"],
  ] as const;
  for (const [def, action] of actions)
    attachAction(program, def, async (opts) => {
      const url = await resolveEndpointUrl({ flag: opts.endpoint, repoDir: opts.repo ?? process.cwd() });
      const endpoint = createEndpointClient({ url: url!, token: process.env.STRATA_TOKEN });
      const doc = await actOnRollout({
        endpoint,
        environment: opts.env,
        service: opts.service,
        action,
        reason: opts.reason,
      });
      show(doc, opts.format);
    });
}
