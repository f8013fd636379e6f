// The version bound, the dirty-source fields and the check of a current snapshot before building on it.
import { describe, expect, it } from "vitest";
import {
  computeDigest,
  createSnapshot,
  ENVIRONMENT_NAME,
  MAX_SNAPSHOT_NESTING,
  MAX_VERSION,
  signDigest,
  validateSnapshotShape,
  verifyCurrentSnapshot,
  type Snapshot,
} from "../../../src/core/snapshot/index.js";
import { StrataError } from "../../../src/core/findings.js";
import { MAX_DEPTH } from "../../../src/core/yaml/parse.js";
import { makeSnapshot, newKey } from "../../support/snapshots.js";

const { key } = newKey();

function resign(s: Omit<Snapshot, "digest" | "signatures">): Snapshot {
  const digest = computeDigest(s);
  return { ...s, digest, signatures: [signDigest(digest, key)] };
}

describe("snapshot bounds", () => {
  it("refuses versions above 2^31 and environment names above 64 characters", () => {
    const {
      digest: _d,
      signatures: _s,
      ...base
    } = makeSnapshot(key, { version: 2, previous: `sha256:${"a".repeat(64)}` });
    expect(validateSnapshotShape(resign({ ...base, version: MAX_VERSION }))).toEqual([]);
    expect(validateSnapshotShape(resign({ ...base, version: MAX_VERSION + 1 }))).toContain(
      `version must be at most ${MAX_VERSION}`,
    );
    expect(ENVIRONMENT_NAME.test("a".repeat(64))).toBe(true);
    expect(ENVIRONMENT_NAME.test("a".repeat(65))).toBe(false);
  });

  it("source.dirty and source.dirtyDigest go together, and are absent from clean snapshots", () => {
    const clean = makeSnapshot(key, {});
    expect(clean.source).not.toHaveProperty("dirty");
    const dirty = createSnapshot(
      {
        environment: "staging",
        version: 1,
        previous: null,
        createdAt: new Date(),
        source: { dirty: true, dirtyDigest: `sha256:${"b".repeat(64)}` },
        contentDigest: clean.contentDigest,
        config: clean.config,
        secrets: null,
      },
      [key],
    );
    expect(dirty.source).toMatchObject({ dirty: true, dirtyDigest: `sha256:${"b".repeat(64)}` });
    expect(validateSnapshotShape(dirty)).toEqual([]);
    const { dirtyDigest: _x, ...half } = dirty.source;
    expect(validateSnapshotShape({ ...dirty, source: half })).toContain(
      "source.dirty and source.dirtyDigest go together",
    );
    expect(validateSnapshotShape({ ...dirty, source: { ...dirty.source, dirty: false } })).toContain(
      "source.dirty must be true when present",
    );
  });

  it("source.pullRequests lists the published pull requests, only when the approval gate wrote it", () => {
    const clean = makeSnapshot(key, {});
    expect(clean.source).not.toHaveProperty("pullRequests");
    const gated = createSnapshot(
      {
        environment: "staging",
        version: 1,
        previous: null,
        createdAt: new Date(),
        source: {
          pullRequest: 12,
          approvedBy: ["sre1", "sre2"],
          emergency: true,
          pullRequests: [
            { number: 11, approvedBy: ["sre1"], emergency: false },
            { number: 12, approvedBy: ["sre2"], emergency: true },
          ],
        },
        contentDigest: clean.contentDigest,
        config: clean.config,
        secrets: null,
      },
      [key],
    );
    expect(validateSnapshotShape(gated)).toEqual([]);
    const bad = (pullRequests: unknown): string[] =>
      validateSnapshotShape({ ...gated, source: { ...gated.source, pullRequests } });
    expect(bad({})).toContain("source.pullRequests must be a list");
    expect(bad([{ number: 0, approvedBy: [], emergency: false }])).toContain(
      "source.pullRequests[0].number must be a pull request number",
    );
    expect(bad([{ number: 1, approvedBy: [1], emergency: false, extra: 1 }])).toEqual([
      'unknown field "source.pullRequests[0].extra"',
      "source.pullRequests[0].approvedBy must be a list of names",
    ]);
    expect(bad([{ number: 1, approvedBy: [] }])).toContain("source.pullRequests[0].emergency must be a boolean");
  });

  it("verifyCurrentSnapshot names the environment and what failed", () => {
    const other = newKey().key;
    const fail = (s: Snapshot): StrataError => {
      try {
        verifyCurrentSnapshot(s, "staging", [key.publicKey]);
      } catch (e) {
        return e as StrataError;
      }
      throw new Error("accepted");
    };
    expect(() => verifyCurrentSnapshot(makeSnapshot(key, {}), "staging", [key.publicKey])).not.toThrow();
    expect(fail(makeSnapshot(other, {}))).toMatchObject({
      code: "invalid-signature",
      message: expect.stringMatching(/^the endpoint's current snapshot of staging cannot be built on: /),
    });
    expect(fail(makeSnapshot(key, { environment: "production" }))).toMatchObject({
      code: "invalid-snapshot",
      message: expect.stringContaining(`"production"`),
    });
    expect(fail({ ...makeSnapshot(key, {}), config: { app: { x: 1 } } })).toMatchObject({ code: "digest-mismatch" });
    expect(fail({ ...makeSnapshot(key, {}), apiVersion: 2 } as unknown as Snapshot)).toMatchObject({
      code: "invalid-snapshot",
      message: expect.stringContaining("apiVersion"),
    });
  });

  it("refuses a document nested deeper than 160 levels before anything walks it recursively", () => {
    const nest = (depth: number): unknown => {
      let v: unknown = 1;
      for (let i = 0; i < depth; i++) v = { a: v };
      return v;
    };
    const s = makeSnapshot(key, {});
    // The document is level 1, config level 2, the namespace's object level 3 (the first of nest's).
    expect(validateSnapshotShape({ ...s, config: { app: nest(158) } })).toEqual([]);
    expect(validateSnapshotShape({ ...s, config: { app: nest(159) } })).toEqual([
      `the document nests deeper than ${MAX_SNAPSHOT_NESTING} levels of arrays and objects`,
    ]);
    // Far deeper than any stack: refused by the shape check, not a RangeError.
    expect(validateSnapshotShape({ ...s, secrets: nest(1_000_000) })[0]).toMatch(/nests deeper/);
    expect(MAX_SNAPSHOT_NESTING).toBeGreaterThan(MAX_DEPTH);
  });
});
