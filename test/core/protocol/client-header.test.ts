// The Strata-Client header codec: what the SDK and the agent write, how the endpoint reads what any client
// on the network may send. Header values are written out literally (they cross processes and versions).
import { describe, expect, it } from "vitest";
import {
  formatClientHeader,
  parseClientHeader,
  parseRejectionCode,
  REJECTION_CODES,
  sanitizeClientField,
  type ClientHeader,
} from "../../../src/core/protocol/index.js";

describe("formatClientHeader", () => {
  it("writes these bytes", () => {
    expect(formatClientHeader({ service: "checkout", instance: "i-1", version: 1, kind: "sdk", rejected: null })).toBe(
      "service=checkout; instance=i-1; version=1; kind=sdk",
    );
    expect(
      formatClientHeader({
        service: "svc",
        instance: "t",
        version: 1,
        kind: "agent",
        rejected: { version: 2, reason: "invalid-signature" },
      }),
    ).toBe("service=svc; instance=t; version=1; kind=agent; rejected=2; reason=invalid-signature");
    expect(
      formatClientHeader({ service: "s", instance: "i", version: 4, kind: "sdk", rejected: null, running: 1500.4 }),
    ).toBe("service=s; instance=i; version=4; kind=sdk; running=1500");
  });

  it("reads `running` as milliseconds, at most 10 s; a value that is not a count is ignored", () => {
    expect(parseClientHeader("service=s; instance=i; version=4; running=1500")).toMatchObject({ running: 1500 });
    expect(parseClientHeader("service=s; instance=i; version=4; running=99999999")).toMatchObject({ running: 10_000 });
    for (const bad of ["-5", "1.5", "", "1e3", "12345678901"])
      expect(parseClientHeader(`service=s; instance=i; version=4; running=${bad}`)).not.toHaveProperty("running");
  });

  it("cannot be made to carry another field or a line break through a name", () => {
    const h = formatClientHeader({
      service: "a; version=99",
      instance: "x\r\nSet-Cookie: y=1",
      version: 3,
      kind: "sdk",
      rejected: null,
    });
    expect(h).toBe("service=a_ version_99; instance=x__Set-Cookie: y_1; version=3; kind=sdk");
    expect(parseClientHeader(h)).toMatchObject({ service: "a_ version_99", version: 3 });
    expect(formatClientHeader({ service: "", instance: "x".repeat(300), version: 0, kind: null, rejected: null })).toBe(
      `service=-; instance=${"x".repeat(128)}; version=0`,
    );
  });

  it("writes a name beyond Latin-1 as its UTF-8 bytes, one Latin-1 character per byte (what HTTP can carry)", () => {
    // fetch (undici) refuses a header character above U+00FF: the name goes out as UTF-8 bytes, which the
    // endpoint reads back as UTF-8.
    const h = formatClientHeader({ service: "東京", instance: "zürich-1", version: 2, kind: "sdk", rejected: null });
    expect(h).toBe("service=\u00e6\u009d\u00b1\u00e4\u00ba\u00ac; instance=z\u00c3\u00bcrich-1; version=2; kind=sdk");
    expect([...h].every((c) => c.charCodeAt(0) <= 0xff)).toBe(true);
    expect(new Headers({ "strata-client": h }).get("strata-client")).toBe(h);
    expect(parseClientHeader(h)).toMatchObject({ service: "東京", instance: "zürich-1", version: 2 });
    // An emoji (a surrogate pair) is one four-byte sequence.
    expect(formatClientHeader({ service: "😀", instance: "i", version: 0, kind: null, rejected: null })).toBe(
      "service=\u00f0\u009f\u0098\u0080; instance=i; version=0",
    );
  });

  it("round-trips through parseClientHeader", () => {
    const cases: ClientHeader[] = [
      { service: "s", instance: "i", version: 0, kind: null, rejected: null },
      ...REJECTION_CODES.map((reason, i) => ({
        service: "s",
        instance: `i-${i}`,
        version: i + 1,
        kind: "sdk" as const,
        rejected: { version: i + 2, reason },
      })),
    ];
    for (const c of cases) expect(parseClientHeader(formatClientHeader(c))).toEqual(c);
  });
});

describe("parseClientHeader", () => {
  it("reads a name sent as UTF-8 bytes (Node hands header bytes over as Latin-1) without garbling it", () => {
    // What Node's HTTP parser gives the server for the UTF-8 bytes of the header.
    const onTheWire = (text: string): string => Buffer.from(text, "utf8").toString("latin1");
    expect(parseClientHeader(onTheWire("service=zürich-api; instance=東京-1"))).toMatchObject({
      service: "zürich-api",
      instance: "東京-1",
    });
    // Bytes that are not UTF-8 keep their Latin-1 reading; a string already decoded is left alone.
    expect(parseClientHeader("service=caf\u00e9; instance=i")?.service).toBe("café");
    expect(parseClientHeader("service=東京; instance=i")?.service).toBe("東京");
  });

  it("reads fields in any order and case, quoted, with the old spelling of a code", () => {
    expect(
      parseClientHeader('Kind=agent;VERSION=4; instance="i 2" ;service=api; reason=decrypt-failed; rejected=5'),
    ).toEqual({
      service: "api",
      instance: "i 2",
      version: 4,
      kind: "agent",
      rejected: { version: 5, reason: "decryption-failed" },
    });
  });

  it("drops what it cannot trust: no service or instance, an unknown kind or reason, a bad version, over 1 KiB", () => {
    expect(parseClientHeader(undefined)).toBeNull();
    expect(parseClientHeader("service=a")).toBeNull();
    expect(parseClientHeader("service=\u0007; instance=i")).toBeNull();
    expect(parseClientHeader(`service=a; instance=i; x=${"y".repeat(1024)}`)).toBeNull();
    expect(parseClientHeader("service=a; instance=i; version=-1; kind=robot; rejected=2; reason=bored")).toEqual({
      service: "a",
      instance: "i",
      version: 0,
      kind: null,
      rejected: null,
    });
    expect(parseClientHeader("service=a; instance=i; version=12345678901")?.version).toBe(0);
  });

  it("strips C0 and C1 control characters and cuts names to 128 characters", () => {
    expect(sanitizeClientField(" a\u0000b\u001b[31mc\u009bd\u007f ")).toBe("ab[31mcd");
    expect(sanitizeClientField("x".repeat(500))).toHaveLength(128);
  });
});

describe("rejection codes", () => {
  it("have one spelling; the old SDK spelling reads as it", () => {
    expect(REJECTION_CODES).toContain("decryption-failed");
    expect(REJECTION_CODES).not.toContain("decrypt-failed");
    expect(parseRejectionCode("decrypt-failed")).toBe("decryption-failed");
    for (const code of REJECTION_CODES) expect(parseRejectionCode(code)).toBe(code);
    expect(parseRejectionCode("nope")).toBeNull();
    expect(parseRejectionCode("constructor")).toBeNull();
  });
});
