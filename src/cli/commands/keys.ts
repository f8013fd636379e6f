import type { Command } from "commander";
import { generateKeys, signingRepository } from "../../app/distribution/index.js";
import { StrataError } from "../../core/findings.js";
import { STANDARD_STREAM } from "../../core/names.js";
import { log, print, printData, printPlaintext } from "../output.js";
import { printJson } from "../common.js";
import { attachAction, attachCommand } from "../spec.js";
import { keysCommand, keysGenerateCommand } from "../table.js";

export function register(program: Command): void {
  attachCommand(program, keysCommand);
  attachAction(program, keysGenerateCommand, async (opts) => {
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
