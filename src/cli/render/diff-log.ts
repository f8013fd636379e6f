/** `strata log` as text: newest first, one block per commit that changed the effective value. */
import type { LogResult } from "../../app/log.js";
import { color } from "../output.js";
import { formatValue } from "./diff-common.js";

export function renderLogText(result: LogResult): string {
  if (result.commits.length === 0) return `no commit changed ${result.key} in ${result.environment}\n`;
  const lines: string[] = [];
  const many = result.environments.length > 1;
  for (const c of result.commits) {
    const pr = c.pullRequest === null ? "" : color.cyan(` #${c.pullRequest}`);
    lines.push(
      `${color.yellow(c.commit.slice(0, 12))} ${c.date.slice(0, 10)} ${color.bold(c.author)}${pr}  ${c.subject}`,
    );
    if (c.merge)
      lines.push(
        `    ${color.dim(`merged in ${c.merge.commit.slice(0, 12)} ${c.merge.date.slice(0, 10)} by ${c.merge.author}:`)} ${c.merge.subject}`,
      );
    for (const ch of c.changes) {
      let body: string;
      if (ch.sensitive)
        body = color.cyan(
          ch.change === "changed"
            ? ch.certain === false
              ? "sensitive value may have changed"
              : "sensitive value changed"
            : `sensitive value ${ch.change}`,
        );
      else if (ch.change === "added") body = color.green(formatValue(ch.after));
      else if (ch.change === "removed") body = color.red(`${formatValue(ch.before)} (removed)`);
      else body = `${color.red(formatValue(ch.before))} → ${color.green(formatValue(ch.after))}`;
      const mark =
        ch.change === "added" ? color.green("+") : ch.change === "removed" ? color.red("-") : color.yellow("~");
      lines.push(`    ${mark} ${many ? `${color.dim(`[${ch.environment}]`)} ` : ""}${ch.key}: ${body}`);
    }
  }
  return lines.join("\n") + "\n";
}
