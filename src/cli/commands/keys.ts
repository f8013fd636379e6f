import type { Command } from "commander";
import { generateKeys, signingRepository } from "../../app/distribution/index.js";
import { StrataError } from "../../core/findings.js";
import { STANDARD_STREAM } from "../../core/names.js";
import { log, print, printData, printPlaintext } from "../output.js";
import { addFormatOption, examples, printJson } from "../common.js";

export function register(program: Command): void {
  const keys = program
    .command("keys")
    .description("snapshot signing keys: see docs/distribution.md")
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
  const generate = keys
    .command("generate")
    .description(
      "write an ed25519 signing key (PKCS#8 PEM, mode 0600), print its public key, and in a repository add it to strata.yaml's signing.trusted_keys",
    )
    .addHelpText(
      "after",
      examples([
        ["strata keys generate --out ../signing.pem", "in a repository: keep the key outside it, trust its public key"],
        ["strata keys generate --out ci.pem --no-trust", "only the key pair: strata.yaml is left alone"],
        ["strata keys generate --out - --no-trust > ci.pem", "the private key on stdout, the public key on stderr"],
      ]),
    )
    .option("--out <file>", "where to write the private key (-: print it on stdout)", "strata-signing-key.pem")
    .option(
      "--repo <dir>",
      "the repository whose strata.yaml trusts the key (default: the one around the current directory)",
    )
    .option("--no-trust", "do not add the public key to strata.yaml");
  addFormatOption(generate, ["text", "json"], "text", { github: false });
  generate.action(async (opts: { out: string; repo?: string; trust: boolean; format?: string }) => {
    const toStdout = opts.out === STANDARD_STREAM;
    if (toStdout && opts.format === "json")
      throw new StrataError(
        "invalid-argument",
        "--out - prints the private key on stdout: it cannot go with --format json",
        {
          hint: "write the key to a file (--out FILE) to get the JSON report",
        },
      );
    const repo = opts.trust ? signingRepository({ repo: opts.repo, cwd: process.cwd() }) : null;
    const { out, pem, publicKey, keyid, trustedIn } = await generateKeys({
      out: toStdout ? null : opts.out,
      trustIn: repo,
    });
    if (opts.format === "json") {
      printData(printJson({ schemaVersion: 1, out, publicKey, keyid, trustedIn }));
      return;
    }
    if (pem !== null) {
      // The key is the data: stdout gets exactly the PEM (`> key.pem`), everything else goes to stderr.
      printPlaintext(pem, [pem]);
      log(
        "printed the private key on stdout (keep it secret: pass it as STRATA_SIGNING_KEY, or save it for --signing-key)",
      );
    } else
      log(
        `wrote the private key to ${out} (mode 0600; keep it secret: pass it as --signing-key or STRATA_SIGNING_KEY)`,
      );
    if (trustedIn !== null)
      log(
        `keyid ${keyid}; added the public key ${pem !== null ? publicKey : "below"} to signing.trusted_keys in ${trustedIn} (commit it: push refuses uncommitted changes)`,
      );
    else
      log(
        `keyid ${keyid}; add the public key ${pem !== null ? publicKey : "below"} to signing.trusted_keys in strata.yaml${opts.trust ? " (no strata.yaml here: pass --repo DIR to add it for you)" : ""}`,
      );
    if (pem === null) print(publicKey);
  });
}
