// The services worked example of docs/distribution.md, made runnable: real age identities for its two services.
import { execFileSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { projectRoot } from "./cli.js";

export const distributionDoc = (): string => readFileSync(join(projectRoot, "docs/distribution.md"), "utf8");

/**
 * Creates an age identity per service of the example under `keys` (filling `identity` and `recipient`) and
 * returns the example's `services:` section with their recipients in place of the doc's placeholders.
 */
export function servicesExample(
  keys: string,
  identity: Record<string, string>,
  recipient: Record<string, string>,
): string {
  for (const name of ["checkout", "marketing"]) {
    identity[name] = join(keys, `${name}.age.txt`);
    execFileSync("age-keygen", ["-o", identity[name]], { stdio: "ignore" });
    recipient[name] = execFileSync("age-keygen", ["-y", identity[name]], { encoding: "utf8" }).trim();
  }
  return /<!-- services-example -->\n```yaml\n([\s\S]*?)```/
    .exec(distributionDoc())![1]!
    .replace("age1checkout…", recipient.checkout!)
    .replace("age1marketing…", recipient.marketing!);
}
