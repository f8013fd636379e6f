/** Standard input, read whole: `-` in place of a file name, `--value-stdin`. */

/** The whole of standard input as bytes (empty when it is closed at once). */
export async function readStandardInput(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(Buffer.from(c as Uint8Array));
  return Buffer.concat(chunks);
}
