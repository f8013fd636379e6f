import { Option, type Command } from "commander";
import { createEndpointClient, readStatus, resolveEndpointUrl } from "../../app/distribution/index.js";
import { examples, printJson } from "../common.js";
import { print } from "../output.js";

function age(seconds: number): string {
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

export function register(program: Command): void {
  program
    .command("status")
    .description("what each environment runs: current version, age, and which clients run which version")
    .addHelpText("after", examples([["strata status", "every environment at distribution.endpoint"], ["strata status --env production --format json", "one environment, for scripts"]]))
    .option("--env <name>", "only this environment")
    .option("--endpoint <url>", "the endpoint (default: STRATA_ENDPOINT, then distribution.endpoint)")
    .option("--repo <dir>", "the configuration repository, for distribution.endpoint")
    .addOption(new Option("--format <format>", "output format").choices(["text", "json"]).default("text"))
    .action(async (opts: { env?: string; endpoint?: string; repo?: string; format: string }) => {
      const url = await resolveEndpointUrl({ flag: opts.endpoint, repoDir: opts.repo ?? process.cwd() });
      const status = await readStatus({ endpoint: createEndpointClient({ url: url!, token: process.env.STRATA_TOKEN }), environment: opts.env });
      if (opts.format === "json") return print(printJson(status));
      const lines = [`endpoint ${url} (${status.store})`];
      if (status.environments.length === 0) lines.push("nothing published");
      for (const e of status.environments) {
        const clients = Object.entries(e.clients).map(([v, n]) => `${n} on v${v}`).join(", ") || "no clients seen";
        lines.push(`${e.environment}: v${e.version}, published ${age(e.ageSeconds)} ago${e.expired ? ", EXPIRED (push --refresh)" : ""}; ${clients}`);
      }
      for (const c of status.clients) lines.push(`  ${c.service}/${c.instance}: ${c.environment ?? "?"} v${c.version ?? "?"}${c.connections > 0 ? " (connected)" : ""}, seen ${c.lastSeen}`);
      print(lines.join("\n"));
    });
}
