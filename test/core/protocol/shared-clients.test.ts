// The fleet document the servers of one store share: what a server reads back from the store is checked
// member by member, so a broken or hostile document cannot put a forged-looking record on a dashboard.
import { describe, expect, it } from "vitest";
import { parseSharedClients, type ClientRecord } from "../../../src/core/protocol/index.js";

const good: ClientRecord = {
  environment: "staging",
  service: "api",
  instance: "i-1",
  kind: "sdk",
  version: 3,
  since: "2026-12-07T00:00:00.000Z",
  lastSeen: "2026-12-07T00:01:00.000Z",
  connected: true,
  rejected: { version: 4, reason: "invalid-signature", at: "2026-12-07T00:00:30.000Z" },
  state: "refusing",
};
const doc = (clients: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({ schemaVersion: 1, server: "a1b2-c3", writtenAt: "2026-12-07T00:01:00.000Z", clients, ...extra });

describe("parseSharedClients", () => {
  it("reads a document back as written", () => {
    expect(parseSharedClients(doc([good]))).toEqual({
      schemaVersion: 1,
      server: "a1b2-c3",
      writtenAt: "2026-12-07T00:01:00.000Z",
      clients: [good],
    });
  });

  it("derives the state itself and drops records that are not records", () => {
    const bad = [
      { ...good, state: "running" },
      { ...good, version: -1 },
      { ...good, version: "3" },
      { ...good, kind: "browser" },
      { ...good, connected: "yes" },
      { ...good, lastSeen: "yesterday" },
      { ...good, rejected: { version: 4, reason: "constructor", at: good.since } },
      { ...good, rejected: { version: 4, reason: "invalid-signature" } },
      { ...good, service: 7 },
      null,
      "x",
    ];
    const read = parseSharedClients(doc(bad))!;
    // Only the first survives, with its state from its version and refusal, not from the document.
    expect(read.clients).toEqual([{ ...good, state: "refusing" }]);
  });

  it("refuses what is not a document", () => {
    for (const text of [
      "",
      "null",
      "[]",
      doc([], { schemaVersion: 2 }),
      doc([], { server: "../../etc" }),
      doc([], { writtenAt: "soon" }),
      doc([], { clients: {} }),
    ])
      expect(parseSharedClients(text), text).toBeNull();
  });
});
