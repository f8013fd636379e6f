// @module-tag e2e
// The example repository's generated types (examples/types/strata-config.ts) are checked in: this test
// fails when the schemas changed and they were not regenerated. Its type assertions are checked by
// `npm run typecheck`, which compiles the test files.
import { describe, expect, expectTypeOf, it } from "vitest";
import type { DatabaseConfig, KeyPath, StrataConfig, ValueAt } from "../../examples/types/strata-config.js";
import { strata } from "../support/cli.js";

const FILE = "examples/types/strata-config.ts";

describe("the example repository's generated types", () => {
  it(`${FILE} is what strata typegen writes today`, async () => {
    const r = await strata(["typegen", "--out", FILE, "--check"]);
    expect(
      r.exitCode,
      `${FILE} is out of date with schemas/: regenerate it with \`npm run build && node bin/strata.mjs typegen --out ${FILE}\` and commit it\n${r.stderr}`,
    ).toBe(0);
    expect(r.stderr).toContain(`${FILE} is up to date`);
  });

  it("types the example's keys", () => {
    // Compile-time assertions (npm run typecheck); at run time they only need to not throw.
    expectTypeOf<ValueAt<"database.pool.max">>().toEqualTypeOf<number>();
    expectTypeOf<ValueAt<"cache.eviction_policy">>().toEqualTypeOf<
      "noeviction" | "allkeys-lru" | "volatile-lru" | "allkeys-lfu" | "volatile-ttl"
    >();
    expectTypeOf<ValueAt<"features.maintenance_banner">>().toEqualTypeOf<string | null>();
    expectTypeOf<ValueAt<"database.password">>().toEqualTypeOf<string | undefined>();
    expectTypeOf<StrataConfig["database"]>().toEqualTypeOf<DatabaseConfig>();
    expectTypeOf<"database.pool.mx">().not.toExtend<KeyPath>();
  });
});
