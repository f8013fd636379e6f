// Shared helpers for the benchmarks: run commands N times, take medians, print tables.
import { spawnSync, execFileSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir, cpus, totalmem } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const root = fileURLToPath(new URL("..", import.meta.url));
export const cli = join(root, "bin", "strata.mjs");
// The shared corpus, as the tests find it (test/support/shared.ts): STRATA_SHARED_DIR, else shared/ beside the checkout.
export const sharedDir = process.env.STRATA_SHARED_DIR
  ? resolve(process.env.STRATA_SHARED_DIR)
  : join(root, "..", "shared");
export const generator = join(sharedDir, "bench", "gen-config-repo.mjs");

export function tmp(prefix = "strata-bench-") {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function generate(dir, args) {
  execFileSync(process.execPath, [generator, dir, ...args], { stdio: "pipe" });
  return dir;
}

/** Runs a command `runs` times (after one warm-up unless told not to); returns the median wall time in ms. */
export function time(cmd, args, { runs = 5, env = {}, warmup = true, cwd = root, check = true } = {}) {
  const samples = [];
  const e = { ...process.env, NO_COLOR: "1", ...env };
  if (warmup) spawnSync(cmd, args, { cwd, env: e, stdio: "ignore" });
  for (let i = 0; i < runs; i++) {
    const t = process.hrtime.bigint();
    const r = spawnSync(cmd, args, { cwd, env: e, stdio: ["ignore", "ignore", "pipe"], maxBuffer: 1 << 28 });
    const ms = Number(process.hrtime.bigint() - t) / 1e6;
    if (check && r.status !== 0)
      throw new Error(`${cmd} ${args.join(" ")} exited ${r.status}: ${String(r.stderr).slice(0, 500)}`);
    samples.push(ms);
  }
  return median(samples);
}

/** Peak resident memory in MB of one run, from GNU time. */
export function peakRssMb(cmd, args, { env = {} } = {}) {
  const r = spawnSync("/usr/bin/time", ["-f", "%M", cmd, ...args], {
    env: { ...process.env, ...env },
    encoding: "utf8",
    stdio: ["ignore", "ignore", "pipe"],
  });
  const kb = Number(r.stderr.trim().split("\n").pop());
  return Number.isFinite(kb) ? kb / 1024 : NaN;
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

export function table(title, header, rows) {
  const widths = header.map((h, i) => Math.max(String(h).length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`;
  console.log(`\n### ${title}\n`);
  console.log(line(header));
  console.log(`|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`);
  for (const r of rows) console.log(line(r));
}

export function machine() {
  return `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}`;
}

export const fmt = (ms) => (ms >= 1000 ? `${(ms / 1000).toFixed(2)} s` : `${ms.toFixed(0)} ms`);
export const ratio = (a, b) => `${(a / b).toFixed(2)}×`;

/** A TCP port free on loopback now (the daemon a bench starts takes it). */
export function freePort() {
  return new Promise((resolvePort) => {
    const s = createServer();
    s.listen(0, "127.0.0.1", () => {
      const p = s.address().port;
      s.close(() => resolvePort(p));
    });
  });
}

/**
 * The URL a server child prints on stderr when it listens (`{"msg":"listening","url":…}`, as `strata serve`
 * and the benches' floor servers do); rejects with the end of its stderr if it exits first.
 */
export function listeningUrl(child, name = "serve") {
  let err = "";
  return new Promise((resolve, reject) => {
    child.stderr.on("data", (d) => {
      err += d;
      const m = /"msg":"listening","url":"([^"]+)"/.exec(err);
      if (m) resolve(m[1]);
    });
    child.once("exit", (code) => reject(new Error(`${name} exited ${code}: ${err.slice(-2000)}`)));
  });
}

/** A one-member etcd on loopback: its command-line arguments (`extra` appended), and its client URL. */
export function etcdArgs({ name, dataDir, clientPort, peerPort, extra = [] }) {
  const url = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  return {
    url,
    args: [
      "--name",
      name,
      "--data-dir",
      dataDir,
      "--listen-client-urls",
      url,
      "--advertise-client-urls",
      url,
      "--listen-peer-urls",
      peer,
      "--initial-advertise-peer-urls",
      peer,
      "--initial-cluster",
      `${name}=${peer}`,
      "--log-level",
      "error",
      ...extra,
    ],
  };
}

/** Waits until etcd at `url` says it is healthy (its own /health), polling every 100 ms for at most `ms`. */
export async function etcdHealthy(url, ms = 30_000) {
  for (const end = Date.now() + ms; Date.now() < end;) {
    if (
      await fetch(`${url}/health`).then(
        (r) => r.ok,
        () => false,
      )
    )
      return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`etcd at ${url} did not become healthy in ${ms / 1000} s`);
}
