/**
 * The key-path types of `client.get`. `strata typegen` writes a declaration whose `KeyPath` equals
 * `KeyPath<StrataConfig>` here, so `get("database.pool.max")` is typed and a misspelled key fails to compile.
 */

/** Depth guard: configuration trees are shallow; this keeps recursive types from exploding on cycles. */
type Depth = [never, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];

/** A map with fixed keys is a branch; arrays, scalars and free-form maps (an index signature) are leaves. */
type IsBranch<V> = V extends readonly unknown[]
  ? false
  : V extends (...args: never[]) => unknown
    ? false
    : V extends object
      ? string extends keyof V
        ? false
        : true
      : false;

type PathsOf<T, D extends number> = [D] extends [never]
  ? never
  : {
      // `unknown` first: NonNullable<unknown> is `{}`, which would read as a branch with no keys and drop K.
      [K in keyof T & string]-?: unknown extends T[K]
        ? K
        : IsBranch<NonNullable<T[K]>> extends true
          ? `${K}.${PathsOf<NonNullable<T[K]>, Depth[D]>}`
          : K;
    }[keyof T & string];

/**
 * The union of the dotted leaf paths of `T` (`"database.pool.max" | "database.host" | …`). With the default
 * untyped configuration (`Record<string, unknown>`) it is `string`.
 */
export type KeyPath<T> = string extends keyof T ? string : PathsOf<T, 15>;

/** The type of the value at dotted path `K` of `T` (`unknown` for a path it cannot follow). */
export type ValueAt<T, K extends string> = string extends K
  ? T extends object
    ? string extends keyof T
      ? T[keyof T & string]
      : unknown
    : unknown
  : K extends keyof T
    ? T[K]
    : K extends `${infer H}.${infer R}`
      ? H extends keyof T
        ? ValueAt<NonNullable<T[H]>, R>
        : unknown
      : unknown;

/** A deeply read-only view (what `getAll()` returns: the tree is frozen). */
export type DeepReadonly<T> = T extends (...args: never[]) => unknown
  ? T
  : T extends readonly (infer E)[]
    ? readonly DeepReadonly<E>[]
    : T extends object
      ? { readonly [K in keyof T]: DeepReadonly<T[K]> }
      : T;
