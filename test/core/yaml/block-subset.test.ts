// The block-subset reader against the general parser: for any text, it gives either nothing (the general
// parser reads the text) or exactly the general parser's nodes, values and positions, for a text the
// general parser has no finding about. Documents are generated from the subset's edges: keys and scalars
// YAML reads as something else, indicators, quotes and escapes, comments, indentation that is off by one,
// and random damage to the lines.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { stringify } from "yaml";
import { readBlockSubset } from "../../../src/core/yaml/block-subset.js";
import { parseGeneral, parseYaml } from "../../../src/core/yaml/parse.js";

type Keys = "segments" | "any";

/** The property: nothing, or the general parser's documents for a text it has no finding about. */
function agrees(text: string, keys: Keys): { accepted: boolean } {
  const subset = readBlockSubset(text, "f.yaml", keys);
  if (subset === null) return { accepted: false };
  const general = parseGeneral(text, "f.yaml", { keys, allowUnset: true });
  expect({ text, findings: general.findings }).toEqual({ text, findings: [] });
  expect(subset).toEqual(general.documents);
  return { accepted: true };
}

const KEYS = [
  ..."a b key1 b-c _x x_y A e inf nan _ a- $unset __proto__ constructor prototype true True TRUE false null Null NULL ~ y n yes No on OFF a.b $ref $schema x-sensitive 0 1x".split(
    " ",
  ),
  "a b",
  "a:b",
  "<<",
  '"q"',
  "'q'",
  "é",
  "k".repeat(1100),
];

const SCALARS = [
  ..."1 -1 +1 0 00 012 0o17 0o18 0x1F 0xg 1_000 1e3 1E+3 .5 5. -.5 .inf -.inf +.INF .nan .NaN 1:30 12:30:45 9007199254740991 9007199254740993 -9007199254740992 1e400 -1e400 true False TRUE tRue null ~ Null yes No on off y n Y hello - -- -a ? :a @x `x %x &a *a !t | > [] {} [1] []x [ ] {a} \"\" '' é 日本 http://x:1/y a]] } # ~x 0.0 -0 +0 0x 0o 1__0 _1".split(
    " ",
  ),
  "hello world",
  "a: b",
  "a:",
  "a #c",
  "a#c",
  "a ,b",
  "- a",
  "? a",
  "!t x",
  "&a x",
  "[1, 2]",
  "{a: 1}",
  "a  ",
  '"a\\"b"',
  '"a\\nb"',
  '"\\u00e9\\u0041"',
  '"\\uD83D\\uDE00"',
  '"\\x41"',
  '"\\ "',
  '"\\t"',
  '"\\/"',
  '"\\u12"',
  '"a\\',
  "'a''b'",
  "'a''",
  "'a",
  '"a',
  "'a' #c",
  "'a'#c",
  '"a"#c',
  '"a" "b"',
  '"a" x',
  "[] #c",
  "[]#c",
  "x\u0001",
  "a\u0085b",
  "a\u2028b",
  "a\u00a0b",
  "\u00a0",
  "\ufeffa",
  "a\tb",
  "a\rb",
  "*",
  "&",
  "!!str 1",
  "!unset",
  "|\n  x",
  ">-\n  y",
];

const key = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...KEYS) },
  { weight: 8, arbitrary: fc.stringMatching(/^[a-z_$][a-z0-9_.$-]{0,5}$/) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom(..."ab:#-'\" .$_1"), maxLength: 5 }) },
);
const scalar = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...SCALARS) },
  {
    weight: 4,
    arbitrary: fc.oneof(
      fc.integer().map(String),
      fc.double().map(String),
      fc.stringMatching(/^[a-z][a-z0-9 ./:-]{0,10}$/),
    ),
  },
  { weight: 2, arbitrary: fc.string({ maxLength: 8 }).map((s) => JSON.stringify(s)) },
  {
    weight: 1,
    arbitrary: fc.string({ unit: fc.constantFrom(..."ab1.:#-'\"\\ []{},?&*!|>%@`~+x\u00e9"), maxLength: 8 }),
  },
  { weight: 1, arbitrary: fc.string({ maxLength: 6 }) },
);
/** One-line flow collections: nested, with odd spacing, empty and trailing entries, keys without a space. */
const flow: fc.Arbitrary<string> = fc.letrec<{ flow: string }>((tie) => {
  const gap = fc.constantFrom("", " ", "  ");
  const item = fc.oneof({ depthSize: "small" }, scalar, scalar, tie("flow"), fc.constant(""));
  const seq = fc
    .tuple(fc.array(fc.tuple(gap, item, gap), { maxLength: 4 }), fc.boolean())
    .map(([items, trailing]) => `[${items.map(([a, v, b]) => `${a}${v}${b}`).join(",")}${trailing ? "," : ""}]`);
  const map = fc
    .tuple(
      fc.array(fc.tuple(gap, key, fc.constantFrom(": ", ":", " : ", ":  "), item, gap), { maxLength: 4 }),
      fc.boolean(),
    )
    .map(
      ([entries, trailing]) =>
        `{${entries.map(([a, k, c, v, b]) => `${a}${k}${c}${v}${b}`).join(",")}${trailing ? "," : ""}}`,
    );
  return { flow: fc.oneof(seq, map) };
}).flow;
const inline = fc.oneof({ weight: 5, arbitrary: scalar }, { weight: 2, arbitrary: flow });
const trailer = fc.constantFrom("", "", "", " ", "  ", " # c", "# c", "  #c #d");
const step = fc.constantFrom(2, 2, 2, 1, 3, 4);

interface Line {
  indent: number;
  text: string;
}

/** A block: a map or a sequence, as lines at `indent` (and deeper). */
const block = fc.letrec<{ map: Line[]; seq: Line[]; value: Line[][] }>((tie) => ({
  map: fc
    .array(fc.tuple(key, fc.oneof({ depthSize: "small" }, fc.tuple(inline, trailer), tie("value")), trailer, step), {
      minLength: 1,
      maxLength: 4,
    })
    .map((entries) =>
      entries.flatMap(([k, v, t, s]): Line[] => {
        if (Array.isArray(v) && typeof v[0] === "string") return [{ indent: 0, text: `${k}: ${v[0]}${v[1]}` }];
        const [child] = v as Line[][];
        return [{ indent: 0, text: `${k}:${t}` }, ...child!.map((l) => ({ ...l, indent: l.indent + s }))];
      }),
    ),
  seq: fc
    .array(
      fc.oneof(
        { depthSize: "small" },
        fc.tuple(inline, trailer),
        // `- key: value` and the map's other lines, lined up with the first key (or not, after damage).
        fc.tuple(tie("map"), fc.constantFrom(1, 1, 2)),
      ),
      { minLength: 1, maxLength: 4 },
    )
    .map((items) =>
      items.flatMap((item): Line[] => {
        if (typeof item[0] === "string") return [{ indent: 0, text: `- ${item[0]}${item[1] as string}` }];
        const [[first, ...rest], gap] = item as [Line[], number];
        const dash = `-${" ".repeat(gap)}`;
        return [
          { indent: 0, text: `${dash}${" ".repeat(first!.indent)}${first!.text}` },
          ...rest.map((l) => ({ ...l, indent: l.indent + dash.length })),
        ];
      }),
    ),
  value: fc.oneof(
    { depthSize: "small" },
    fc.tuple(tie("map")),
    fc.tuple(tie("seq")),
    fc.constant([[]]),
  ) as fc.Arbitrary<Line[][]>,
}));

/** Blank and comment lines, and damage: a line indented off by one, a duplicated or dropped line, a tab. */
const damage = fc.array(
  fc.tuple(
    fc.nat(),
    fc.constantFrom(
      "blank",
      "comment",
      "deeper-comment",
      "shift+1",
      "shift-1",
      "duplicate",
      "drop",
      "tab",
      "cr",
      "---",
    ),
  ),
  { maxLength: 2 },
);

function render(lines: Line[], damages: [number, string][]): string {
  const out = lines.map((l) => ({ ...l }));
  for (const [at, what] of damages) {
    const i = out.length === 0 ? 0 : at % out.length;
    const line = out[i];
    if (what === "blank") out.splice(i, 0, { indent: 0, text: "" });
    else if (what === "comment") out.splice(i, 0, { indent: line?.indent ?? 0, text: "# note" });
    else if (what === "deeper-comment") out.splice(i, 0, { indent: (line?.indent ?? 0) + 5, text: "# note" });
    else if (what === "---") out.splice(i, 0, { indent: 0, text: "---" });
    else if (!line) continue;
    else if (what === "shift+1") line.indent++;
    else if (what === "shift-1") line.indent = Math.max(0, line.indent - 1);
    else if (what === "duplicate") out.splice(i, 0, { ...line });
    else if (what === "drop") out.splice(i, 1);
    else if (what === "tab") line.text = `\t${line.text}`;
    else if (what === "cr") line.text = `${line.text}\r`;
  }
  return out.map((l) => " ".repeat(l.indent) + l.text).join("\n");
}

describe("the block-subset reader", () => {
  it("gives the general parser's nodes and positions, or leaves the text to it (generated documents)", () => {
    let accepted = 0;
    fc.assert(
      fc.property(
        fc.oneof(block.map, block.seq),
        damage,
        fc.boolean(),
        fc.constantFrom<Keys>("segments", "any"),
        (lines, damages, finalNewline, keys) => {
          const text = render(lines, damages) + (finalNewline ? "\n" : "");
          if (agrees(text, keys).accepted) accepted++;
        },
      ),
      { numRuns: Number(process.env.BLOCK_RUNS ?? 8000) },
    );
    // The generator reaches the subset as well as past it: the property is not vacuous.
    expect(accepted).toBeGreaterThan(400);
  });

  it("agrees on one-line flow collections, as values and as items", () => {
    let accepted = 0;
    fc.assert(
      fc.property(flow, trailer, fc.constantFrom<Keys>("segments", "any"), (f, t, keys) => {
        if (agrees(`k: ${f}${t}\n`, keys).accepted) accepted++;
        agrees(`list:\n  - ${f}${t}\n`, keys);
      }),
      { numRuns: Number(process.env.BLOCK_RUNS ?? 3000) },
    );
    expect(accepted).toBeGreaterThan(250);
  });

  it("agrees on every line shape alone, in both key modes", () => {
    for (const keys of ["segments", "any"] as const) {
      for (const k of KEYS)
        for (const v of SCALARS) for (const t of ["", " # c", "  "]) agrees(`${k}: ${v}${t}\n`, keys);
      for (const v of SCALARS) agrees(`list:\n  - ${v}\n  - x\n`, keys);
    }
  });

  it("agrees on documents the yaml package writes", () => {
    const value = fc.letrec((tie) => ({
      v: fc.oneof(
        { depthSize: "small" },
        fc.string(),
        fc.constantFrom(...SCALARS),
        fc.integer(),
        fc.double(),
        fc.boolean(),
        fc.constant(null),
        fc.array(tie("v"), { maxLength: 3 }),
        fc.dictionary(fc.constantFrom(...KEYS), tie("v"), { maxKeys: 3 }),
      ),
    })).v;
    fc.assert(
      fc.property(fc.dictionary(fc.constantFrom(...KEYS), value, { maxKeys: 5 }), (doc) => {
        agrees(stringify(doc), "any");
        agrees(stringify(doc), "segments");
      }),
      { numRuns: Number(process.env.BLOCK_RUNS ?? 1000) },
    );
  });

  it("reads the common shapes itself, with the positions of the general parser", () => {
    const text = [
      "# a comment before anything",
      "name: api",
      "port: 8080",
      "ratio: 0.5",
      'url: "https://x.example:443/a?b=c#d"',
      "quoted: 'it''s'",
      "empty:",
      "empty_comment:   # nothing here",
      "list: []",
      "map: {}",
      "nested:",
      "",
      "  # indented comment",
      "  deeper:",
      "    - one",
      '    - "two"',
      "    - 3",
      "  flag: true",
      "last: ~",
    ].join("\n");
    const parsed = parseYaml(text, "f.yaml", { keys: "segments", allowUnset: true });
    expect(readBlockSubset(text, "f.yaml", "segments")).not.toBeNull();
    expect(parsed).toEqual(parseGeneral(text, "f.yaml", { keys: "segments", allowUnset: true }));
  });

  it("leaves to the general parser every text with a finding", () => {
    for (const text of [
      "a: 1\na: 2\n", // duplicate key
      "a: yes\n", // YAML 1.1 ambiguity
      "a: 9007199254740993\n", // past 2^53
      "a: .nan\n", // not a JSON number
      "Bad.Key: 1\n", // not a key segment
      "true: 1\n", // not a string key
      "a: b: c\n", // nested mapping on one line
      "a: 1\n  b: 2\n", // indented under a scalar
      "a:\n- x\n", // a sequence at the key's indentation
      "a: 'open\n",
      "a: !unset\n",
    ]) {
      expect(readBlockSubset(text, "f.yaml", "segments")).toBeNull();
      expect(parseYaml(text, "f.yaml", { keys: "segments", allowUnset: true })).toEqual(
        parseGeneral(text, "f.yaml", { keys: "segments", allowUnset: true }),
      );
    }
  });
});
