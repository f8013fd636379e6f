// The event stream's frames and the SDK's parser of them, in process. The frame's bytes are written out
// literally: deployed clients parse exactly these, so a change to the writer must break this test first.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  announcedVersion,
  EMBEDDED_SNAPSHOT_MAX_BYTES,
  embeddedSnapshot,
  EventStreamParser,
  EventTooLargeError,
  formatSnapshotEvent,
  MAX_PENDING_EVENT,
  KEEP_ALIVE_FRAME,
  RETRY_FRAME,
  type StreamEvent,
} from "../../../src/core/protocol/index.js";

const DIGEST = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";
/** What the endpoint writes for staging v7, byte for byte. */
const FRAME =
  'event: snapshot\nid: 7\ndata: {"environment":"staging","version":7,"digest":"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"}\n\n';
/** What a stream opened on staging at v7 carries before the first keep-alive. */
const STREAM_START = `retry: 2000\n\n${FRAME}`;

function parseAll(chunks: string[]): { events: StreamEvent[]; blocks: number } {
  const parser = new EventStreamParser();
  const events = chunks.flatMap((c) => parser.push(c));
  return { events, blocks: parser.blocks };
}

describe("the snapshot frame", () => {
  it("is these bytes", () => {
    expect(formatSnapshotEvent({ environment: "staging", version: 7, digest: DIGEST })).toBe(FRAME);
    expect(RETRY_FRAME + formatSnapshotEvent({ environment: "staging", version: 7, digest: DIGEST })).toBe(
      STREAM_START,
    );
    expect(KEEP_ALIVE_FRAME).toBe(": keep-alive\n\n");
  });

  it("writes only the three data members, in that order, whatever the caller passes", () => {
    const extra = { digest: DIGEST, version: 7, environment: "staging", secret: "x" } as never;
    expect(formatSnapshotEvent(extra)).toBe(FRAME);
  });
});

describe("the snapshot frame carrying its snapshot", () => {
  /** A (short) snapshot text with what JSON escapes: quotes, a backslash, a line break, non-ASCII. */
  const TEXT = '{"config":{"a":"x\\"y\\\\z\\n","é":1},"version":7}\n';
  /** The frame for staging v7 carrying TEXT, byte for byte: one data line, TEXT as a JSON string last. */
  const CARRYING =
    'event: snapshot\nid: 7\ndata: {"environment":"staging","version":7,"digest":"sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08","snapshot":"{\\"config\\":{\\"a\\":\\"x\\\\\\"y\\\\\\\\z\\\\n\\",\\"é\\":1},\\"version\\":7}\\n"}\n\n';

  it("is these bytes, and gives back the exact text", () => {
    const frame = formatSnapshotEvent({ environment: "staging", version: 7, digest: DIGEST, snapshot: TEXT });
    expect(frame).toBe(CARRYING);
    const { events } = parseAll([frame]);
    expect(events).toHaveLength(1);
    expect(announcedVersion(events[0]!)).toBe(7);
    expect(embeddedSnapshot(events[0]!)).toBe(TEXT);
  });

  it("is still an announcement to a reader that knows only the id (an older client)", () => {
    const { events } = parseAll([RETRY_FRAME, CARRYING, KEEP_ALIVE_FRAME]);
    expect(events.map(announcedVersion)).toEqual([7]);
  });

  it("nothing is read from an event without a snapshot string", () => {
    const v = (data: string, event = "snapshot"): string | null => embeddedSnapshot({ event, id: "7", data });
    expect(embeddedSnapshot(parseAll([FRAME]).events[0]!)).toBeNull();
    expect(v('{"snapshot":7}')).toBeNull();
    expect(v('{"snapshot":null}')).toBeNull();
    expect(v('{"snapshot":"x"')).toBeNull();
    expect(v('"snapshot"')).toBeNull();
    expect(v('{"snapshot":"x"}', "message")).toBeNull();
    expect(v('{"snapshot":"x"}')).toBe("x");
  });

  it("a snapshot at the bound, however it escapes, stays within what every reader accepts", () => {
    const worst = '"'.repeat(EMBEDDED_SNAPSHOT_MAX_BYTES);
    const frame = formatSnapshotEvent({ environment: "staging", version: 7, digest: DIGEST, snapshot: worst });
    expect(frame.length).toBeLessThan(MAX_PENDING_EVENT);
    expect(embeddedSnapshot(parseAll([frame]).events[0]!)).toBe(worst);
  });
});

describe("EventStreamParser", () => {
  const snapshot7: StreamEvent = {
    event: "snapshot",
    id: "7",
    data: `{"environment":"staging","version":7,"digest":"${DIGEST}"}`,
  };

  it("reads the endpoint's stream: the retry block and a comment count as blocks but are not events", () => {
    expect(parseAll([STREAM_START, KEEP_ALIVE_FRAME])).toEqual({ events: [snapshot7], blocks: 3 });
    expect(announcedVersion(snapshot7)).toBe(7);
  });

  it("gives the same events however the bytes are split, one character at a time included", () => {
    const text = STREAM_START + KEEP_ALIVE_FRAME + FRAME.replace(/7/g, "8");
    const whole = parseAll([text]);
    expect(whole.events.map(announcedVersion)).toEqual([7, 8]);
    expect(parseAll([...text])).toEqual(whole);
    fc.assert(
      fc.property(fc.array(fc.nat(text.length), { maxLength: 12 }), (cuts) => {
        const at = [...new Set(cuts)].sort((a, b) => a - b);
        const chunks = [0, ...at].map((c, i) => text.slice(c, at[i] ?? text.length));
        expect(parseAll(chunks)).toEqual(whole);
      }),
    );
  });

  it("accepts CRLF, LF and CR line ends, a CRLF split across chunks included", () => {
    for (const eol of ["\r\n", "\n", "\r"]) {
      const text = ["event: snapshot", "id: 7", `data: ${snapshot7.data}`, "", ""].join(eol);
      expect(parseAll([text]).events, JSON.stringify(eol)).toEqual([snapshot7]);
      expect(parseAll([...text]).events, JSON.stringify(eol)).toEqual([snapshot7]);
    }
    expect(parseAll(["id: 7\r", "\ndata: x\r", "\r", "\n"]).events).toEqual([{ event: "message", id: "7", data: "x" }]);
  });

  it("follows the field rules: one leading space dropped, data lines joined, no colon means an empty value", () => {
    expect(parseAll(["data:a\ndata:  b\ndata\nevent:snapshot\n\n"]).events).toEqual([
      { event: "snapshot", id: null, data: "a\n b\n" },
    ]);
    // No data: nothing is dispatched (but the block was seen). An id is the event's own, never carried over.
    expect(parseAll(["event: snapshot\nid: 9\n\ndata: x\n\n"])).toEqual({
      events: [{ event: "message", id: null, data: "x" }],
      blocks: 2,
    });
    // An id holding NUL is ignored, as the standard says.
    expect(parseAll(["id: 1\0\ndata: x\n\n"]).events).toEqual([{ event: "message", id: null, data: "x" }]);
  });

  it("announces a version only for a snapshot event whose id is a version", () => {
    const v = (event: string, id: string | null): number => announcedVersion({ event, id, data: "{}" });
    expect(v("snapshot", "12")).toBe(12);
    expect(v("message", "12")).toBe(0);
    expect(v("snapshot", null)).toBe(0);
    for (const id of ["", "-1", "1.5", "0x10", " 3", "1".repeat(16)]) expect(v("snapshot", id), id).toBe(0);
  });

  it("holds only the unfinished line between chunks", () => {
    const parser = new EventStreamParser();
    expect(parser.push("event: snap")).toEqual([]);
    expect(parser.push("shot\nid: 7\ndata: {}\n")).toEqual([]);
    expect(parser.push("\n")).toEqual([{ event: "snapshot", id: "7", data: "{}" }]);
    expect(parser.blocks).toBe(1);
  });

  it("refuses an event longer than 1 MiB: a line that never ends, or data lines that never end the event", () => {
    expect(MAX_PENDING_EVENT).toBe(1024 * 1024);
    const line = new EventStreamParser(100);
    line.push("data: " + "x".repeat(90));
    expect(() => line.push("x".repeat(10))).toThrow(EventTooLargeError);
    const lines = new EventStreamParser(100);
    expect(() => {
      for (let i = 0; i < 20; i++) lines.push("data: 0123456789\n");
    }).toThrow(/grew past/);
    // Up to the cap, and a cap that counts per event: many small events in one chunk are fine.
    const ok = new EventStreamParser(100);
    expect(ok.push(`event: snapshot\nid: 7\ndata: ${"x".repeat(80)}\n\n`.repeat(50))).toHaveLength(50);
    expect(() => new EventStreamParser().push("data: " + "x".repeat(MAX_PENDING_EVENT))).toThrow(EventTooLargeError);
  });
});
