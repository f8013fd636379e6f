#!/usr/bin/env node
// strata typegen: how long it takes on large repositories, side by side with `strata validate` on the
// same schemas (its peer: both load every schema), and what the generated types cost the TypeScript
// compiler (tsc --noEmit of a file that calls a typed get() on them).
// Usage: node bench/typegen.bench.mjs [--quick]
import { statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { cli, fmt, generate, machine, ratio, root, table, time, tmp } from "./lib.mjs";

const quick = process.argv.includes("--quick");
const runs = quick ? 1 : 3;
const work = tmp();
console.log(`# strata typegen benchmarks\n\nmachine: ${machine()}`);

const sizes = quick
  ? [["50 ns × 40 keys", ["--namespaces", "50", "--keys", "40", "--envs", "4"]]]
  : [
      ["50 ns × 40 keys", ["--namespaces", "50", "--keys", "40", "--envs", "4"]],
      ["500 ns × 40 keys", ["--namespaces", "500", "--keys", "40", "--envs", "4"]],
    ];
const tsc = join(root, "node_modules", "typescript", "bin", "tsc");
const rows = [];
for (const [label, args] of sizes) {
  const dir = generate(join(work, label.split(" ")[0]), args);
  const out = join(dir, "strata-config.ts");
  const typegen = time(process.execPath, [cli, "typegen", "--repo", dir, "--out", out], {
    runs,
    env: { STRATA_NO_CACHE: "1" },
  });
  const validate = time(process.execPath, [cli, "validate", "--repo", dir, "--skip-secrets"], {
    runs,
    env: { STRATA_NO_CACHE: "1" },
  });
  const text = await import("node:fs").then((fs) => fs.readFileSync(out, "utf8"));
  const keys = (text.match(/^ {2}\| "/gm) ?? []).length;
  const firstKey = /^ {2}\| ("[^"]+")/m.exec(text)?.[1] ?? '""';
  writeFileSync(
    join(dir, "use.ts"),
    `import type { KeyPath, ValueAt } from "./strata-config.js";\ndeclare function get<K extends KeyPath>(k: K): ValueAt<K>;\nexport const v = get(${firstKey});\n`,
  );
  writeFileSync(
    join(dir, "tsconfig.json"),
    JSON.stringify({
      compilerOptions: {
        strict: true,
        noEmit: true,
        module: "NodeNext",
        moduleResolution: "NodeNext",
        target: "ES2022",
        lib: ["ES2023"],
        types: [],
      },
      files: ["use.ts"],
    }),
  );
  try {
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"), "dir");
  } catch {
    /* already there */
  }
  const tscEmpty = join(work, `empty-${label.split(" ")[0]}`);
  await import("node:fs").then((fs) => {
    fs.mkdirSync(tscEmpty, { recursive: true });
    fs.writeFileSync(join(tscEmpty, "use.ts"), "export const v = 1;\n");
    fs.writeFileSync(
      join(tscEmpty, "tsconfig.json"),
      JSON.stringify({
        compilerOptions: {
          strict: true,
          noEmit: true,
          module: "NodeNext",
          moduleResolution: "NodeNext",
          target: "ES2022",
          lib: ["ES2023"],
          types: [],
        },
        files: ["use.ts"],
      }),
    );
  });
  const tscTypes = time(process.execPath, [tsc, "-p", join(dir, "tsconfig.json")], { runs });
  const tscFloor = time(process.execPath, [tsc, "-p", join(tscEmpty, "tsconfig.json")], { runs });
  rows.push([
    label,
    keys,
    `${(statSync(out).size / 1024).toFixed(0)} KiB`,
    fmt(typegen),
    fmt(validate),
    ratio(typegen, validate),
    fmt(tscTypes),
    fmt(tscFloor),
  ]);
}
table(
  "strata typegen vs strata validate --skip-secrets (no cache), and tsc on the result",
  [
    "schemas",
    "key paths",
    "file",
    "typegen",
    "validate",
    "typegen / validate",
    "tsc with the types",
    "tsc, empty file",
  ],
  rows,
);
