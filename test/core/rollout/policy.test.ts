import { describe, expect, it } from "vitest";
import {
  activeFreeze,
  DEFAULT_POLICY,
  formatDuration,
  isFrozen,
  parseDuration,
  parseRolloutSettings,
  parseShare,
  policyFor,
  stepPercents,
  type RolloutPolicy,
} from "../../../src/core/rollout/index.js";
import { parseYaml } from "../../../src/core/yaml/parse.js";

const HEADER = [
  "version: 1",
  "environments:",
  "  base: { abstract: true }",
  "  staging: { parent: base }",
  "  production: { parent: base, production: true }",
  "  production-eu: { parent: production }",
  "signing:",
  '  trusted_keys: ["ed25519:2yCHK74/TAISVPpXUwzK1e+Q7rwzUGDihkGTM24ESSw="]',
];
const ROLLOUT_KEY = "ed25519:11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=";

/** Parses strata.yaml made of the header and `lines` (which start at line HEADER.length + 1). */
function parse(lines: string[]) {
  const { documents, findings } = parseYaml([...HEADER, ...lines].join("\n") + "\n", "strata.yaml", {
    keys: "any",
    allowUnset: false,
  });
  expect(findings).toEqual([]);
  return parseRolloutSettings(documents[0] ?? null);
}
const line = (n: number) => HEADER.length + n;

describe("units", () => {
  it.each([
    ["30s", 30_000],
    ["5m", 300_000],
    ["1h30m", 5_400_000],
    ["2d", 172_800_000],
    ["250ms", 250],
    ["1m30s500ms", 90_500],
  ])("duration %s", (text, ms) => {
    expect(parseDuration(text)).toEqual({ ok: true, value: ms });
    expect(parseDuration(formatDuration(ms))).toEqual({ ok: true, value: ms });
  });
  it.each(["5", "5 m", "m5", "5m1h", "1m1m", "-5m", "5min", "", "1.5h"])(
    "duration %j is refused with a hint",
    (text) => {
      const r = parseDuration(text);
      expect(r.ok).toBe(false);
      if (!r.ok) expect(r.message).toMatch(/duration/);
    },
  );
  it.each([
    ["5%", 500],
    [5, 500],
    ["0.25%", 25],
    ["0.29%", 29],
    ["100%", 10_000],
    [12.5, 1250],
  ])("share %j is %d basis points", (v, bp) => expect(parseShare(v)).toEqual({ ok: true, value: bp }));
  it.each(["5", "0.001%", "101%", "-1%", "five%", null, true])("share %j is refused", (v) =>
    expect(parseShare(v).ok).toBe(false),
  );
});

describe("rollout policies in strata.yaml", () => {
  it("reads every strategy, gates, freeze windows and trusted keys into the typed model", () => {
    const { settings, findings } = parse([
      "rollouts:",
      `  trusted_keys: ["${ROLLOUT_KEY}"]`,
      "  environments:",
      "    staging: all-at-once",
      "    base:",
      "      linear: { step: 20%, every: 5m }",
      "    production:",
      "      canary: { percent: 5, bake: 15m }",
      "      confidence: 99.5%",
      "      gates:",
      "        - metric: error-rate",
      "          max_increase: 0.5%",
      "        - metric: latency",
      "          max_increase: 25ms",
      "          min_samples: 500",
      "        - name: http-5xx",
      "          metric: prometheus",
      `          bad: 'sum(increase(http_requests_total{code=~"5..",strata_config_version="{{version}}"}[{{window}}])) or vector(0)'`,
      `          total: 'sum(increase(http_requests_total{strata_config_version="{{ version }}"}[{{window}}]))'`,
      "          max_increase: 1%",
      "      freeze:",
      '        - { from: "2025-12-19T17:00:00Z", until: "2026-01-05T08:00:00+01:00", reason: year-end }',
      '        - { days: [fri, sat], from: "15:00", until: "06:00", timezone: Europe/Berlin }',
    ]);
    expect(findings).toEqual([]);
    expect(settings.trustedKeys).toEqual([ROLLOUT_KEY]);
    const prod = settings.policies.get("production")!;
    expect(prod.strategy).toEqual({ kind: "canary", percent: 500, bake: 900_000 });
    expect(prod.confidence).toBe(9950);
    expect(prod.gates.map((g) => [g.name, g.metric, g.maxIncrease, g.minSamples])).toEqual([
      ["error-rate", "error-rate", 0.005, 1000],
      ["latency", "latency", 25, 500],
      ["http-5xx", "prometheus", 0.01, 1000],
    ]);
    expect(prod.freeze).toEqual([
      {
        kind: "once",
        start: Date.parse("2025-12-19T17:00:00Z"),
        end: Date.parse("2026-01-05T07:00:00Z"),
        reason: "year-end",
      },
      { kind: "weekly", days: ["fri", "sat"], from: 900, until: 360, timeZone: "Europe/Berlin", reason: null },
    ]);
    expect(settings.policies.get("staging")!.strategy).toEqual({ kind: "all-at-once" });
    expect(settings.policies.get("base")!.strategy).toEqual({ kind: "linear", step: 2000, every: 300_000 });
  });

  it("children inherit the nearest ancestor's policy; no policy is all-at-once", () => {
    const { settings } = parse([
      "rollouts:",
      "  environments:",
      "    production: { canary: { percent: 5, bake: 15m } }",
    ]);
    expect(policyFor(settings, ["base", "production", "production-eu"]).declaredIn).toBe("production");
    expect(policyFor(settings, ["base", "staging"])).toBe(DEFAULT_POLICY);
    expect(policyFor(parse([]).settings, ["base", "production"])).toBe(DEFAULT_POLICY);
  });

  it.each<[string, string[], { code: string; line: number; at: string; message: RegExp }]>([
    [
      "an unknown environment",
      ["    prod: all-at-once"],
      { code: "unknown-environment", line: 3, at: "prod", message: /"prod", which is not a declared environment/ },
    ],
    [
      "two strategies",
      ["    production: { canary: { percent: 5, bake: 1m }, linear: { step: 10%, every: 1m } }"],
      { code: "constraint-violation", line: 3, at: "linear", message: /more than one strategy/ },
    ],
    [
      "no strategy",
      ["    production: { gates: [] }"],
      { code: "missing-required", line: 3, at: "{ gates", message: /has no strategy/ },
    ],
    [
      "a bad duration",
      ["    production: { canary: { percent: 5, bake: 15 } }"],
      { code: "invalid-type", line: 3, at: "15 }", message: /bake: 15 is not a duration/ },
    ],
    [
      "a zero duration",
      ["    production: { canary: { percent: 5, bake: 0s } }"],
      { code: "constraint-violation", line: 3, at: "0s", message: /bake must be between 1s and 30d/ },
    ],
    [
      "a percentage of 100",
      ["    production: { canary: { percent: 100%, bake: 5m } }"],
      { code: "constraint-violation", line: 3, at: "100%", message: /percent must be above 0% and below 100%/ },
    ],
    [
      "a percentage over 100",
      ["    production: { linear: { step: 150%, every: 5m } }"],
      { code: "invalid-type", line: 3, at: "150%", message: /more than 100%/ },
    ],
    [
      "a factor of 1",
      ["    production: { exponential: { start: 1%, factor: 1, every: 5m } }"],
      { code: "constraint-violation", line: 3, at: "1, every", message: /factor must be a number above 1/ },
    ],
    [
      "too many steps",
      ["    production: { exponential: { start: 0.01%, factor: 1.01, every: 5m } }"],
      { code: "constraint-violation", line: 3, at: "{ start", message: /at most 100 are allowed/ },
    ],
    [
      "an unknown key with a suggestion",
      ["    production: { canary: { percent: 5, bake: 5m }, gate: [] }"],
      { code: "unknown-key", line: 3, at: "gate:", message: /unknown setting "rollouts.environments.production.gate"/ },
    ],
    [
      "a rate threshold without %",
      [
        "    production:",
        "      canary: { percent: 5, bake: 5m }",
        "      gates: [{ metric: error-rate, max_increase: 0.5 }]",
      ],
      { code: "invalid-type", line: 5, at: "0.5 }", message: /max_increase: 0.5 is not a percentage/ },
    ],
    [
      "a zero threshold",
      [
        "    production:",
        "      canary: { percent: 5, bake: 5m }",
        "      gates: [{ metric: error-rate, max_increase: 0% }]",
      ],
      { code: "constraint-violation", line: 5, at: "0% }", message: /max_increase must be above 0%/ },
    ],
    [
      "an unknown metric",
      [
        "    production:",
        "      canary: { percent: 5, bake: 5m }",
        "      gates: [{ metric: error_rate, max_increase: 1% }]",
      ],
      { code: "invalid-type", line: 5, at: "error_rate", message: /the metrics are error-rate, latency, prometheus/ },
    ],
    [
      "a query without {{version}}",
      [
        "    production:",
        "      canary: { percent: 5, bake: 5m }",
        "      gates: [{ metric: prometheus, bad: 'sum(x)', total: 'sum(y{v=\"{{version}}\"})', max_increase: 1% }]",
      ],
      { code: "constraint-violation", line: 5, at: "'sum(x)'", message: /does not use \{\{version\}\}/ },
    ],
    [
      "an unknown placeholder",
      [
        "    production:",
        "      canary: { percent: 5, bake: 5m }",
        '      gates: [{ metric: prometheus, bad: \'sum(x{v="{{verison}}",w="{{version}}"})\', total: \'sum(y{v="{{version}}"})\', max_increase: 1% }]',
      ],
      { code: "constraint-violation", line: 5, at: "'sum(x{v", message: /unknown placeholder \{\{verison\}\}/ },
    ],
    [
      "gates with all-at-once",
      ["    production:", "      all-at-once: true", "      gates: [{ metric: error-rate, max_increase: 1% }]"],
      { code: "constraint-violation", line: 5, at: "gates", message: /no control group/ },
    ],
    [
      "two gates with one name",
      [
        "    production:",
        "      canary: { percent: 5, bake: 5m }",
        "      gates:",
        "        - { metric: error-rate, max_increase: 1% }",
        "        - { metric: error-rate, max_increase: 2% }",
      ],
      { code: "constraint-violation", line: 7, at: "{ metric", message: /second gate named "error-rate"/ },
    ],
    [
      "a freeze that ends before it starts",
      [
        "    production:",
        "      canary: { percent: 5, bake: 5m }",
        '      freeze: [{ from: "2026-01-02T00:00:00Z", until: "2026-01-01T00:00:00Z" }]',
      ],
      { code: "constraint-violation", line: 5, at: '"2026-01-01', message: /until is not after from/ },
    ],
    [
      "a freeze on 30 February",
      [
        "    production:",
        "      canary: { percent: 5, bake: 5m }",
        '      freeze: [{ from: "2026-02-30T00:00:00Z", until: "2026-03-01T00:00:00Z" }]',
      ],
      { code: "invalid-type", line: 5, at: '"2026-02-30', message: /from is "2026-02-30T00:00:00Z", not a time/ },
    ],
    [
      "a freeze without an offset",
      [
        "    production:",
        "      canary: { percent: 5, bake: 5m }",
        '      freeze: [{ from: "2026-01-01T00:00:00", until: "2026-01-02T00:00:00Z" }]',
      ],
      { code: "invalid-type", line: 5, at: '"2026-01-01T00:00:00"', message: /not a time/ },
    ],
    [
      "overlapping one-off freezes",
      [
        "    production:",
        "      canary: { percent: 5, bake: 5m }",
        "      freeze:",
        '        - { from: "2026-01-01T00:00:00Z", until: "2026-01-03T00:00:00Z" }',
        '        - { from: "2026-01-02T00:00:00Z", until: "2026-01-04T00:00:00Z" }',
      ],
      { code: "constraint-violation", line: 7, at: "{ from", message: /overlaps the one at line 14/ },
    ],
    [
      "overlapping weekly freezes across Sunday midnight",
      [
        "    production:",
        "      canary: { percent: 5, bake: 5m }",
        "      freeze:",
        '        - { days: [sun], from: "22:00", until: "02:00" }',
        '        - { days: [mon], from: "01:00", until: "03:00" }',
      ],
      { code: "constraint-violation", line: 7, at: "{ days", message: /overlaps/ },
    ],
    [
      "an unknown time zone",
      [
        "    production:",
        "      canary: { percent: 5, bake: 5m }",
        '      freeze: [{ days: [fri], from: "15:00", until: "24:00", timezone: Europe/Berlim }]',
      ],
      { code: "invalid-type", line: 5, at: "Europe/Berlim", message: /not a known time zone/ },
    ],
    [
      "a bad time of day",
      [
        "    production:",
        "      canary: { percent: 5, bake: 5m }",
        '      freeze: [{ days: [fri], from: "25:00", until: "24:00" }]',
      ],
      { code: "invalid-type", line: 5, at: '"25:00"', message: /not a time of day/ },
    ],
    [
      "a day twice",
      [
        "    production:",
        "      canary: { percent: 5, bake: 5m }",
        '      freeze: [{ days: [fri, fri], from: "15:00", until: "24:00" }]',
      ],
      { code: "constraint-violation", line: 5, at: "fri]", message: /lists fri twice/ },
    ],
    [
      "a rollout key that is a publishing key",
      ['  trusted_keys: ["ed25519:2yCHK74/TAISVPpXUwzK1e+Q7rwzUGDihkGTM24ESSw="]'],
      { code: "constraint-violation", line: 2, at: '"ed25519', message: /also in signing.trusted_keys/ },
    ],
  ])("%s is a located finding", (_, body, expected) => {
    const lines = body[0]!.startsWith("  trusted_keys")
      ? ["rollouts:", ...body]
      : ["rollouts:", "  environments:", ...body];
    const { findings } = parse(lines);
    expect(findings.map((f) => f.message)).toHaveLength(1);
    const f = findings[0]!;
    // The column of the first occurrence of `at` on the expected line: where the user has to look.
    const column = lines[expected.line - 1]!.indexOf(expected.at) + 1;
    expect(column).toBeGreaterThan(0);
    expect(f).toMatchObject({ code: expected.code, file: "strata.yaml", line: line(expected.line), column });
    expect(f.message).toMatch(expected.message);
    expect(f.message.startsWith(`strata.yaml:${f.line}:${f.column}: `)).toBe(true);
  });

  it("suggests the closest name for a misspelt setting", () => {
    const { findings } = parse(["rollouts:", "  environments:", "    production: { canary: { percent: 5, bak: 5m } }"]);
    expect(findings.map((f) => f.hint)).toContain("did you mean bake?");
  });
});

describe("steps", () => {
  const p = (strategy: RolloutPolicy["strategy"]) => stepPercents(strategy);
  it("linear, exponential and canary shares in basis points; the promotion is not a step", () => {
    expect(p({ kind: "linear", step: 2000, every: 1 })).toEqual([2000, 4000, 6000, 8000]);
    expect(p({ kind: "linear", step: 3000, every: 1 })).toEqual([3000, 6000, 9000]);
    expect(p({ kind: "exponential", start: 100, factor: 2, every: 1 })).toEqual([100, 200, 400, 800, 1600, 3200, 6400]);
    expect(p({ kind: "exponential", start: 1, factor: 1.2, every: 1 }).slice(0, 5)).toEqual([1, 2, 3, 4, 5]);
    expect(p({ kind: "canary", percent: 500, bake: 1 })).toEqual([500]);
    expect(p({ kind: "all-at-once" })).toEqual([]);
  });
});

describe("freeze calendar", () => {
  const { settings } = parse([
    "rollouts:",
    "  environments:",
    "    production:",
    "      canary: { percent: 5, bake: 5m }",
    "      freeze:",
    '        - { from: "2025-12-19T17:00:00Z", until: "2026-01-05T08:00:00Z", reason: year-end }',
    '        - { days: [fri], from: "15:00", until: "24:00", timezone: Europe/Berlin, reason: weekend }',
    '        - { days: [sun], from: "22:00", until: "02:00" }',
  ]);
  const policy = settings.policies.get("production")!;
  it.each([
    ["2025-12-19T13:59:59Z", null],
    // A Friday: at 17:59 in Berlin the weekly window is already open when the year-end one begins.
    ["2025-12-19T16:59:59Z", "weekend"],
    ["2025-12-19T17:00:00Z", "year-end"],
    ["2026-01-05T07:59:59Z", "year-end"],
    ["2026-01-05T08:00:00Z", null],
    // Friday 2026-03-06, Berlin is UTC+1: 15:00 local is 14:00 UTC.
    ["2026-03-06T13:59:59Z", null],
    ["2026-03-06T14:00:00Z", "weekend"],
    ["2026-03-06T22:59:59Z", "weekend"],
    ["2026-03-06T23:00:00Z", null],
    // Friday 2026-04-03, Berlin is UTC+2 (summer time): 15:00 local is 13:00 UTC.
    ["2026-04-03T13:00:00Z", "weekend"],
    ["2026-04-03T12:59:00Z", null],
    // Sunday 22:00 UTC to Monday 02:00 UTC, across the end of the week.
    ["2026-03-08T21:59:59Z", null],
    ["2026-03-08T22:00:00Z", null],
    ["2026-03-09T01:59:59Z", null],
    ["2026-03-09T02:00:00Z", null],
  ])("at %s: %s", (at, reason) => {
    const hit = activeFreeze(policy, Date.parse(at));
    if (at.startsWith("2026-03-08T22") || at.startsWith("2026-03-09T01")) {
      expect(hit?.window.kind).toBe("weekly");
      expect(hit?.reason).toBeNull();
      return;
    }
    expect(hit?.reason ?? null).toBe(reason);
    expect(isFrozen(policy, new Date(at))).toBe(hit !== null);
  });
  it("says when a window ends", () => {
    expect(activeFreeze(policy, Date.parse("2025-12-24T12:00:00Z"))!.endsAt).toBe(Date.parse("2026-01-05T08:00:00Z"));
    expect(activeFreeze(policy, Date.parse("2026-03-06T20:30:15.250Z"))!.endsAt).toBe(
      Date.parse("2026-03-06T23:00:00Z"),
    );
    expect(activeFreeze(policy, Date.parse("2026-03-08T23:00:00Z"))!.endsAt).toBe(Date.parse("2026-03-09T02:00:00Z"));
  });
  it("a policy without a calendar is never frozen", () => expect(isFrozen(DEFAULT_POLICY, Date.now())).toBe(false));
});
