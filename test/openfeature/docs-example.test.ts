// @module-tag e2e
// docs/openfeature.md's worked example, run as written against a real `strata serve` (the built CLI) with a
// real signed snapshot whose secret is real SOPS encrypted to a real age identity: its imports are the ones
// handed in, and each `EXPR; // → VALUE` must give VALUE (as JSON).
import { OpenFeature, ProviderEvents } from "@openfeature/server-sdk";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { afterEach, expect, it } from "vitest";
import { createClient } from "../../src/client/index.js";
import { StrataProvider } from "../../src/openfeature/index.js";
import { encryptSecrets, newAgeIdentity, startEndpoint, type Endpoint } from "../client/support.js";
import { projectRoot } from "../support/cli.js";

const endpoints: Endpoint[] = [];
afterEach(async () => {
  await OpenFeature.close();
  for (const e of endpoints.splice(0)) await e.stop();
});

it("runs docs/openfeature.md's worked example as written", async () => {
  const ep = await startEndpoint();
  endpoints.push(ep);
  const age = await newAgeIdentity();
  await ep.publish(
    {
      checkout: { new_flow: true, banner: "Welcome", max_items: 25 },
      database: { host: "db.internal" },
    },
    { secrets: await encryptSecrets({ database: { password: "docs-example-secret" } }, age.recipient) },
  );

  const doc = readFileSync(join(projectRoot, "docs/openfeature.md"), "utf8");
  const block = /<!-- openfeature-example -->\n```js\n([\s\S]*?)```/.exec(doc)![1]!;
  const imports = block.match(/^import .*$/gm);
  expect(imports).toEqual([
    'import { OpenFeature, ProviderEvents } from "@openfeature/server-sdk";',
    'import { createClient } from "strata-config/client";',
    'import { StrataProvider } from "strata-config/openfeature";',
  ]);
  const expected: string[] = [];
  const body = block
    .replace(/^import .*$/gm, "")
    .replace(/^(.*?);\s*\/\/ → (\S+).*$/gm, (_line, expr: string, value: string) => {
      expected.push(value);
      return `seen.push(JSON.stringify(${expr}));`;
    });
  expect(expected.length).toBe(6);
  const seen: string[] = [];
  const run = new Function(
    "OpenFeature",
    "ProviderEvents",
    "createClient",
    "StrataProvider",
    "endpoint",
    "trustedKeys",
    "process",
    "seen",
    `return (async () => {\n${body}\n})();`,
  ) as (...args: unknown[]) => Promise<void>;
  await run(
    OpenFeature,
    ProviderEvents,
    createClient,
    StrataProvider,
    ep.url,
    [ep.publicKey],
    { env: { STRATA_AGE_IDENTITY: age.identity } },
    seen,
  );
  expect(seen).toEqual(expected);
});
