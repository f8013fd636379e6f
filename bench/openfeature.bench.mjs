#!/usr/bin/env node
// The OpenFeature provider's cost per evaluation, side by side with its peer in the same run: the same flag
// evaluated through the real @openfeature/server-sdk with strata's provider (on a client of a real
// `strata serve`) and with the SDK's own InMemoryProvider, and read with the client's get() directly.
//
//   npm run build && node bench/openfeature.bench.mjs [--quick]
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InMemoryProvider, OpenFeature } from "@openfeature/server-sdk";
import { cli, freePort, machine, median, root, table } from "./lib.mjs";

const quick = process.argv.includes("--quick");
const CALLS = quick ? 5_000 : 50_000;
const RUNS = 5;
const { computeContentDigest, createSnapshot, generateSigningKey, parseSigningKey, serializeSnapshot } = await import(
  join(root, "dist/core/snapshot/index.js")
);
const { StrataClient } = await import(join(root, "dist/client/index.js"));
const { StrataProvider } = await import(join(root, "dist/openfeature/index.js"));

const work = mkdtempSync(join(tmpdir(), "strata-bench-openfeature-"));
const key = parseSigningKey(generateSigningKey().pem);
const keysFile = join(work, "trusted.txt");
writeFileSync(keysFile, `${key.publicKey.text}\n`);

const port = await freePort();
const url = `http://127.0.0.1:${port}`;
const child = spawn(
  process.execPath,
  [cli, "serve", "--listen", `127.0.0.1:${port}`, "--store", `file:${join(work, "store")}`, "--trusted-keys", keysFile],
  { stdio: ["ignore", "ignore", "pipe"] },
);
let client = null;
try {
  await new Promise((resolve, reject) => {
    let err = "";
    child.stderr.on("data", (d) => {
      err += d.toString();
      if (err.includes('"msg":"listening"')) resolve();
    });
    child.once("exit", () => reject(new Error(`serve exited: ${err}`)));
  });
  // A configuration of 10 namespaces × 20 keys, the flag among them.
  const config = {};
  for (let n = 0; n < 10; n++) {
    const ns = {};
    for (let k = 0; k < 20; k++) ns[`key_${k}`] = k % 2 === 0 ? k : `value-${k}`;
    config[`ns${n}`] = ns;
  }
  config.checkout = { new_flow: true };
  const snapshot = createSnapshot(
    {
      environment: "staging",
      version: 1,
      previous: null,
      createdAt: new Date(),
      source: { repository: "bench", pushedBy: "bench" },
      contentDigest: computeContentDigest(config, []),
      config,
      secrets: null,
    },
    [key],
  );
  const res = await fetch(`${url}/v1/environments/staging/snapshot`, {
    method: "PUT",
    headers: { "content-type": "application/json", "if-match": '"0"' },
    body: serializeSnapshot(snapshot),
  });
  if (res.status !== 201) throw new Error(`publish: ${res.status} ${await res.text()}`);

  client = new StrataClient({
    endpoint: url,
    environment: "staging",
    service: "bench",
    trustedKeys: [key.publicKey.text],
  });
  await OpenFeature.setProviderAndWait("strata", new StrataProvider(client));
  await OpenFeature.setProviderAndWait(
    "in-memory",
    new InMemoryProvider({
      "checkout.new_flow": { variants: { on: true, off: false }, defaultVariant: "on", disabled: false },
    }),
  );
  const strata = OpenFeature.getClient("strata");
  const inMemory = OpenFeature.getClient("in-memory");

  /** ns per call: the median of RUNS runs of CALLS calls (awaited one after the other). */
  async function measure(fn) {
    for (let i = 0; i < CALLS / 10; i++) await fn();
    const runs = [];
    for (let r = 0; r < RUNS; r++) {
      const t0 = process.hrtime.bigint();
      for (let i = 0; i < CALLS; i++) await fn();
      runs.push(Number(process.hrtime.bigint() - t0) / CALLS);
    }
    return median(runs);
  }
  const context = { targetingKey: "user-42" };
  const rows = [
    ['`client.get("checkout.new_flow")` (no OpenFeature)', await measure(() => client.get("checkout.new_flow"))],
    [
      "OpenFeature + InMemoryProvider: `getBooleanValue`",
      await measure(() => inMemory.getBooleanValue("checkout.new_flow", false)),
    ],
    [
      "OpenFeature + StrataProvider: `getBooleanValue`",
      await measure(() => strata.getBooleanValue("checkout.new_flow", false)),
    ],
    [
      "OpenFeature + InMemoryProvider: `getBooleanDetails` with a targeting key",
      await measure(() => inMemory.getBooleanDetails("checkout.new_flow", false, context)),
    ],
    [
      "OpenFeature + StrataProvider: `getBooleanDetails` with a targeting key",
      await measure(() => strata.getBooleanDetails("checkout.new_flow", false, context)),
    ],
  ];
  const peer = rows[1][1];
  table(
    `One flag evaluation (ns per call, median of ${RUNS} × ${CALLS.toLocaleString("en")}); ${machine()}`,
    ["evaluation", "ns/call", "vs InMemoryProvider"],
    rows.map(([name, ns], i) => [
      name,
      ns.toFixed(0),
      i === 0 ? "-" : `${(ns / (i <= 2 ? peer : rows[3][1])).toFixed(2)}×`,
    ]),
  );
} finally {
  await OpenFeature.close();
  await client?.close();
  child.kill("SIGKILL");
  rmSync(work, { recursive: true, force: true });
}
