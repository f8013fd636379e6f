// SOPS benchmark: decrypt a 2,000-value SOPS YAML (age) with strata and with sops-age in the same run, and
// encryption throughput. Standalone: `npm run build && node bench/sops.bench.mjs`.
import { cpus, totalmem } from "node:os";
import { performance } from "node:perf_hooks";
import { generateIdentity, identityToRecipient } from "age-encryption";
import { decryptSops } from "sops-age";
import { encryptBranchesFor } from "../dist/app/secrets/encrypt.js";
import { openSopsText } from "../dist/app/secrets/open.js";
import { DEFAULT_RULES } from "../dist/app/secrets/recipients.js";
import { stores } from "../dist/core/sops/stores/index.js";

const VALUES = 2000;
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);

function plainYaml() {
  let out = "";
  for (let s = 0; s < VALUES / 20; s++) {
    out += `service_${s}:\n`;
    for (let k = 0; k < 20; k++) out += `    key_${k}: value-${s}-${k}-${"x".repeat(k)}\n`;
  }
  return out;
}

async function time(fn) {
  await fn(); // warm-up
  const samples = [];
  for (let i = 0; i < ROUNDS; i++) {
    const t = performance.now();
    await fn();
    samples.push(performance.now() - t);
  }
  samples.sort((a, b) => a - b);
  return { median: samples[Math.floor(samples.length / 2)], min: samples[0] };
}

const identity = await generateIdentity();
const recipient = await identityToRecipient(identity);
const env = { SOPS_AGE_KEY: identity, HOME: "/nonexistent" };
const recipients = {
  groups: [{ age: [recipient], pgp: [], kms: [] }],
  shamirThreshold: 0,
  rules: DEFAULT_RULES,
  source: "bench",
};
const plain = plainYaml();
const encrypted = await encryptBranchesFor(stores.yaml.parsePlain(plain), "yaml", recipients, env, "bench.yaml");

const rows = [];
const strataDecrypt = await time(() => openSopsText(encrypted, "yaml", { file: "bench.yaml", env }));
rows.push(["decrypt 2,000-value YAML (age)", "strata", strataDecrypt]);
const sopsAgeDecrypt = await time(() => decryptSops(encrypted, { secretKey: identity, fileType: "yaml" }));
rows.push(["decrypt 2,000-value YAML (age)", "sops-age 4.0.2", sopsAgeDecrypt]);
const encrypt = await time(() =>
  encryptBranchesFor(stores.yaml.parsePlain(plain), "yaml", recipients, env, "bench.yaml"),
);
rows.push(["encrypt 2,000-value YAML (age)", "strata", encrypt]);

console.log(
  `machine: ${cpus()[0]?.model ?? "?"} x${cpus().length}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, node ${process.version}; ${ROUNDS} rounds after a warm-up`,
);
console.log("| case | implementation | median ms | min ms | values/s (median) |");
console.log("|---|---|---:|---:|---:|");
for (const [name, impl, r] of rows)
  console.log(
    `| ${name} | ${impl} | ${r.median.toFixed(1)} | ${r.min.toFixed(1)} | ${Math.round(VALUES / (r.median / 1000)).toLocaleString("en-US")} |`,
  );
console.log(`strata / sops-age decrypt time: ${(strataDecrypt.median / sopsAgeDecrypt.median).toFixed(2)}x`);
