import type { Command } from "commander";
import { generateKeys } from "../../app/distribution/index.js";
import { log, print } from "../output.js";

export function register(program: Command): void {
  const keys = program.command("keys").description("snapshot signing keys (SPEC §9)");
  keys
    .command("generate")
    .description("write an ed25519 signing key (PKCS#8 PEM, mode 0600) and print its public key")
    .option("--out <file>", "where to write the private key", "strata-signing-key.pem")
    .action(async (opts: { out: string }) => {
      const { out, publicKey, keyid } = await generateKeys({ out: opts.out });
      log(`wrote the private key to ${out} (mode 0600; keep it secret: pass it as --signing-key or STRATA_SIGNING_KEY)`);
      log(`keyid ${keyid}; add the public key below to signing.trusted_keys in strata.yaml`);
      print(publicKey);
    });
}
