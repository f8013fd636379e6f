import type { Command } from "commander";
import { generateKeys, signingRepository } from "../../app/distribution/index.js";
import { log, print } from "../output.js";
import { examples } from "../common.js";
import { docsUrl } from "../../core/docs.js";

export function register(program: Command): void {
  const keys = program
    .command("keys")
    .description(`snapshot signing keys: see ${docsUrl("distribution")}`)
    .addHelpText(
      "after",
      examples([
        [
          "strata keys generate --out ../signing.pem",
          "a key pair; in a repository its public key is added to signing.trusted_keys",
        ],
        ["strata keys generate --help", "where the key goes and how push finds it"],
      ]),
    );
  keys
    .command("generate")
    .description(
      "write an ed25519 signing key (PKCS#8 PEM, mode 0600), print its public key, and in a repository add it to strata.yaml's signing.trusted_keys",
    )
    .addHelpText(
      "after",
      examples([
        ["strata keys generate --out ../signing.pem", "in a repository: keep the key outside it, trust its public key"],
        ["strata keys generate --out ci.pem --no-trust", "only the key pair: strata.yaml is left alone"],
      ]),
    )
    .option("--out <file>", "where to write the private key", "strata-signing-key.pem")
    .option(
      "--repo <dir>",
      "the repository whose strata.yaml trusts the key (default: the one around the current directory)",
    )
    .option("--no-trust", "do not add the public key to strata.yaml")
    .action(async (opts: { out: string; repo?: string; trust: boolean }) => {
      const repo = opts.trust ? signingRepository({ repo: opts.repo, cwd: process.cwd() }) : null;
      const { out, publicKey, keyid, trustedIn } = await generateKeys({ out: opts.out, trustIn: repo });
      log(
        `wrote the private key to ${out} (mode 0600; keep it secret: pass it as --signing-key or STRATA_SIGNING_KEY)`,
      );
      if (trustedIn !== null)
        log(
          `keyid ${keyid}; added the public key below to signing.trusted_keys in ${trustedIn} (commit it: push refuses uncommitted changes)`,
        );
      else
        log(
          `keyid ${keyid}; add the public key below to signing.trusted_keys in strata.yaml${opts.trust ? " (no strata.yaml here: pass --repo DIR to add it for you)" : ""}`,
        );
      print(publicKey);
    });
}
