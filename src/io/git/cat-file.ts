/**
 * Reads blobs through ONE long-lived `git cat-file --batch` process (STYLE: not one `git show` per file):
 * requests are written to its stdin and answers come back in order on stdout, so a FIFO of pending reads is
 * enough to match them.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import { StrataError } from "../../core/findings.js";
import { gitEnvironment } from "./run.js";

export interface BlobReader {
  /** The object's bytes, or null when the object does not exist. */
  read(oid: string): Promise<Uint8Array | null>;
  /** Ends the git process; pending reads still complete. */
  close(): void;
}

interface Pending {
  resolve(value: Uint8Array | null): void;
  reject(error: Error): void;
}

export function createBlobReader(cwd: string): BlobReader {
  let child: ChildProcessWithoutNullStreams | null = null;
  let closed = false;
  const queue: Pending[] = [];
  // Output not yet consumed: a list of chunks avoids re-copying a large blob on every chunk.
  let chunks: Buffer[] = [];
  let buffered = 0;
  let expecting: number | null = null; // content size of the object whose header was read
  let failure: Error | null = null;
  let stderr = "";
  const cache = new Map<string, Promise<Uint8Array | null>>();

  function take(n: number): Buffer {
    const all = chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, buffered);
    const head = all.subarray(0, n);
    const rest = all.subarray(n);
    chunks = rest.length > 0 ? [rest] : [];
    buffered = rest.length;
    return head;
  }

  function indexOfNewline(): number {
    let offset = 0;
    for (const c of chunks) {
      const i = c.indexOf(10);
      if (i >= 0) return offset + i;
      offset += c.length;
    }
    return -1;
  }

  function drain(): void {
    for (;;) {
      if (expecting === null) {
        const nl = indexOfNewline();
        if (nl < 0) return;
        const header = take(nl + 1)
          .toString("utf8")
          .trimEnd();
        if (header.endsWith(" missing") || header.endsWith(" ambiguous")) {
          queue.shift()?.resolve(null);
          continue;
        }
        const size = Number(header.split(" ")[2]);
        if (!Number.isFinite(size)) {
          fail(new StrataError("internal", `unexpected git cat-file output: ${header}`));
          return;
        }
        expecting = size;
      }
      if (buffered < expecting + 1) return;
      const content = Buffer.from(take(expecting)); // copy: the shared buffer is reused
      take(1); // the newline after the content
      expecting = null;
      queue.shift()?.resolve(new Uint8Array(content.buffer, content.byteOffset, content.length));
    }
  }

  function fail(error: Error): void {
    failure = error;
    for (const p of queue.splice(0)) p.reject(error);
  }

  function start(): ChildProcessWithoutNullStreams {
    const c = spawn("git", ["cat-file", "--batch"], { cwd, env: gitEnvironment(), stdio: ["pipe", "pipe", "pipe"] });
    c.stdout.on("data", (b: Buffer) => {
      chunks.push(b);
      buffered += b.length;
      drain();
    });
    c.stderr.on("data", (b: Buffer) => (stderr += b.toString("utf8")));
    c.on("error", (cause) =>
      fail(new StrataError("internal", `could not run git cat-file: ${cause.message}`, { cause })),
    );
    c.on("close", (code) => {
      if (queue.length > 0)
        fail(
          new StrataError("internal", `git cat-file --batch ended (exit ${code}) with reads pending: ${stderr.trim()}`),
        );
    });
    // An EPIPE after git died is reported through "close" above.
    c.stdin.on("error", () => undefined);
    return c;
  }

  return {
    read(oid: string): Promise<Uint8Array | null> {
      // A request line with a space or newline would desynchronise the protocol.
      if (!/^[0-9a-f]{40}([0-9a-f]{24})?$/.test(oid))
        return Promise.reject(new StrataError("internal", `not an object id: ${oid}`));
      const cached = cache.get(oid);
      if (cached) return cached;
      if (closed) return Promise.reject(new StrataError("internal", "blob reader used after close"));
      if (failure) return Promise.reject(failure);
      child ??= start();
      const p = new Promise<Uint8Array | null>((resolve, reject) => queue.push({ resolve, reject }));
      child.stdin.write(`${oid}\n`);
      cache.set(oid, p);
      return p;
    },
    close(): void {
      if (closed) return;
      closed = true;
      child?.stdin.end();
    },
  };
}
