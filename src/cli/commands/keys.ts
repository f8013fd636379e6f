import type { Command } from "commander";
import { generateKeys } from "../../app/distribution/index.js";
import { log, print } from "../output.js";
import { examples } from "../common.js";

export function register(program: Command): void {
  const keys = program
    .command("keys")
    .description("snapshot signing keys: see docs/distribution.md")
    .addHelpText(
      "after",
      examples([
        ["strata keys generate --out ../signing.pem", "a key pair; add the printed public key to signing.trusted_keys"],
        ["strata keys generate --help", "where the key goes and how push finds it"],
      ]),
    );
  keys
    .command("generate")
    .description("write an ed25519 signing key (PKCS#8 PEM, mode 0600) and print its public key")
    .addHelpText(
      "after",
      examples([
        ["strata keys generate", "writes strata-signing-key.pem, prints the public key"],
        ["strata keys generate --out ../signing.pem", "keep it outside the repository"],
      ]),
    )
    .option("--out <file>", "where to write the private key", "strata-signing-key.pem")
    .action(async (opts: { out: string }) => {
      const { out, publicKey, keyid } = await generateKeys({ out: opts.out });
      log(
        `wrote the private key to ${out} (mode 0600; keep it secret: pass it as --signing-key or STRATA_SIGNING_KEY)`,
      );
      log(`keyid ${keyid}; add the public key below to signing.trusted_keys in strata.yaml`);
      print(publicKey);
    });
}
