// Optional packages (etcd3, @aws-sdk/client-kms): a missing one is a clear error naming it; any other
// failure while loading, including a missing dependency *of* the package, is not disguised as that.
import { describe, expect, it } from "vitest";
import { EXIT } from "../../src/core/findings.js";
import { importOptional, isMissingPackage, MissingPackageError } from "../../src/io/optional-package.js";

describe("importOptional", () => {
  it("turns a missing package into an invocation error naming it and the install command", async () => {
    const name = "strata-test-no-such-package";
    const e = await importOptional(name, "The frobnicator", () => import(name)).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(MissingPackageError);
    expect((e as MissingPackageError).exitCode).toBe(EXIT.usage);
    expect((e as Error).message).toBe(
      `The frobnicator needs the optional package ${name}, which is not installed: run \`npm install -g ${name}\``,
    );
  });

  it("returns the module when it is installed", async () => {
    const m = await importOptional("yaml", "YAML", () => import("yaml"));
    expect(typeof m.parse).toBe("function");
  });

  it("lets every other failure through unchanged", async () => {
    const transitive = Object.assign(
      new Error("Cannot find package 'long' imported from /x/node_modules/etcd3/lib/index.js"),
      { code: "ERR_MODULE_NOT_FOUND" },
    );
    expect(isMissingPackage(transitive, "etcd3")).toBe(false);
    await expect(importOptional("etcd3", "The etcd store", () => Promise.reject(transitive))).rejects.toBe(transitive);
    const other = new Error("boom");
    await expect(importOptional("etcd3", "The etcd store", () => Promise.reject(other))).rejects.toBe(other);
  });
});
