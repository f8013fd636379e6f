// Throwaway key material for tests: a GNUPGHOME with the sops functional-test keys, the sops-age key.
// Every GNUPGHOME handed out here is remembered, and its gpg-agent (started by gpg on first use, by the
// test or by the CLI it spawns) is killed after the test file: agents must not outlive the suite.
import { execFileSync, spawnSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll } from "vitest";
import { conformance } from "../../support/shared.js";

const ageKeyFile = conformance("sops-age/key.txt");
/** The sops functional tests' age key (empty when the corpus is missing: the suites using it are skipped). */
export const SOPS_AGE_KEY = existsSync(ageKeyFile) ? readFileSync(ageKeyFile, "utf8") : "";
export const SOPS_AGE_RECIPIENT = "age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr";
export const PGP_FP1 = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4";
export const PGP_FP2 = "D7229043384BCC60326C6FB9D8720D957C3D3074";

let gnupgHome: string | null = null;
const homes = new Set<string>();

/** Stops the gpg-agent (and any other gpg daemon) of every GNUPGHOME this module handed out. */
export function killGpgAgents(): void {
  for (const home of homes) {
    if (existsSync(home))
      spawnSync("gpgconf", ["--kill", "all"], { env: { ...process.env, GNUPGHOME: home }, stdio: "ignore" });
  }
  homes.clear();
  gnupgHome = null;
}

// Registered while the importing test file is collected, so it runs when that file ends, however it ends.
afterAll(killGpgAgents);

/** A GNUPGHOME with both functional-test secret keys imported (once per test file). */
export function testGnupgHome(): string {
  if (gnupgHome !== null) return gnupgHome;
  const dir = mkdtempSync(join(tmpdir(), "strata-gpg-"));
  chmodSync(dir, 0o700);
  homes.add(dir);
  execFileSync("gpg", ["--batch", "--quiet", "--import", conformance("sops/pgp/sops_functional_tests_key.asc")], {
    env: { ...process.env, GNUPGHOME: dir },
    stdio: ["ignore", "ignore", "ignore"],
  });
  gnupgHome = dir;
  return dir;
}

/** An environment with no ambient keys: only what the test gives. */
export function keyEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), "strata-home-"));
  const gnupg = extra.GNUPGHOME ?? join(home, "no-gnupg");
  // gpg creates a missing GNUPGHOME and starts an agent there too.
  homes.add(gnupg);
  return { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, ".config"), GNUPGHOME: gnupg, ...extra };
}
