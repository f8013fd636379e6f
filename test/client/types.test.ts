// The SDK's key-path types (checked by `npm run typecheck`, which compiles the tests): a typed client
// types `get` by path, and a misspelled key is a compile error.
import { describe, expectTypeOf, it } from "vitest";
import type { KeyPath, StrataClient, ValueAt } from "../../src/client/index.js";
import type {
  KeyPath as GeneratedKeyPath,
  StrataConfig,
  ValueAt as GeneratedValueAt,
} from "../../examples/types/strata-config.js";

interface AppConfig {
  readonly database: {
    readonly host: string;
    readonly pool: { readonly max: number; readonly min?: number };
    readonly replicas: readonly string[];
    readonly labels: Readonly<Record<string, string>>;
  };
  readonly features: { readonly mode: "a" | "b" };
}

describe("KeyPath and ValueAt", () => {
  it("are the dotted leaf paths and their value types; arrays and free-form maps are leaves", () => {
    expectTypeOf<KeyPath<AppConfig>>().toEqualTypeOf<
      | "database.host"
      | "database.pool.max"
      | "database.pool.min"
      | "database.replicas"
      | "database.labels"
      | "features.mode"
    >();
    expectTypeOf<ValueAt<AppConfig, "database.pool.max">>().toEqualTypeOf<number>();
    expectTypeOf<ValueAt<AppConfig, "database.pool.min">>().toEqualTypeOf<number | undefined>();
    expectTypeOf<ValueAt<AppConfig, "features.mode">>().toEqualTypeOf<"a" | "b">();
    expectTypeOf<ValueAt<AppConfig, "database.labels">>().toEqualTypeOf<Readonly<Record<string, string>>>();
  });

  it("type get() on a typed client; an untyped client takes any string", () => {
    const typed = null as unknown as StrataClient<AppConfig>;
    const untyped = null as unknown as StrataClient;
    const check = (): void => {
      expectTypeOf(typed.get("database.pool.max")).toEqualTypeOf<number>();
      expectTypeOf(typed.get("database.pool.min", 5)).toEqualTypeOf<number | undefined>();
      // @ts-expect-error a misspelled key does not compile
      typed.get("database.pool.maxx");
      expectTypeOf(untyped.get("anything.at.all")).toEqualTypeOf<unknown>();
      expectTypeOf(typed.getAll().database.pool.max).toEqualTypeOf<number>();
    };
    void check;
  });

  it("agree with what `strata typegen` writes for the example repository", () => {
    expectTypeOf<KeyPath<StrataConfig>>().toEqualTypeOf<GeneratedKeyPath>();
    expectTypeOf<ValueAt<StrataConfig, "database.pool.max">>().toEqualTypeOf<GeneratedValueAt<"database.pool.max">>();
    expectTypeOf<ValueAt<StrataConfig, "cache.eviction_policy">>().toEqualTypeOf<
      GeneratedValueAt<"cache.eviction_policy">
    >();
    const typed = null as unknown as StrataClient<StrataConfig>;
    const check = (): void => {
      expectTypeOf(typed.get("database.pool.max")).toEqualTypeOf<number>();
      // @ts-expect-error a key the schemas do not have does not compile
      typed.get("database.pool.mx");
    };
    void check;
  });
});
