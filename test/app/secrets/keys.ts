// Throwaway key material for tests: a GNUPGHOME with the sops functional-test keys, the sops-age key.
import { execFileSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { conformance } from "../../core/sops/support.js";

export const SOPS_AGE_KEY = readFileSync(conformance("sops-age/key.txt"), "utf8");
export const SOPS_AGE_RECIPIENT = "age1je6kjhzuhdjy3fqptpttxjh5k8q46vygzlgtpuq3030c947pc5tqz9dqvr";
export const PGP_FP1 = "FBC7B9E2A4F9289AC0C1D4843D16CEE4A27381B4";
export const PGP_FP2 = "D7229043384BCC60326C6FB9D8720D957C3D3074";

let gnupgHome: string | null = null;

/** A GNUPGHOME with both functional-test secret keys imported (once per test file). */
export function testGnupgHome(): string {
  if (gnupgHome !== null) return gnupgHome;
  const dir = mkdtempSync(join(tmpdir(), "strata-gpg-"));
  chmodSync(dir, 0o700);
  execFileSync("gpg", ["--batch", "--quiet", "--import", conformance("sops/pgp/sops_functional_tests_key.asc")], {
    env: { ...process.env, GNUPGHOME: dir }, stdio: ["ignore", "ignore", "ignore"],
  });
  gnupgHome = dir;
  return dir;
}

/** An environment with no ambient keys: only what the test gives. */
export function keyEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const home = mkdtempSync(join(tmpdir(), "strata-home-"));
  return { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, ".config"), GNUPGHOME: join(home, "no-gnupg"), ...extra };
}
