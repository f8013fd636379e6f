import { describe, expect, it } from "vitest";
import { formatFloatF, formatFloatG, formatJsonFloat, formatYamlFloat } from "../../../src/core/sops/go-format.js";

describe("Go float formatting", () => {
  it.each([
    [3.14, "3.14"],
    [1234568000, "1234568000"],
    [0.000001, "0.000001"],
    [1e21, "1000000000000000000000"],
    [-2.5, "-2.5"],
    [0, "0"],
    [1e-7, "0.0000001"],
    [25.4, "25.4"],
  ])("'f' %d -> %s", (v, s) => expect(formatFloatF(v)).toBe(s));

  it.each([
    [1234568000, "1.234568e+09"],
    [3.14, "3.14"],
    [100000, "100000"],
    [1000000, "1e+06"],
    [0.0001, "0.0001"],
    [0.00001, "1e-05"],
    [1.5, "1.5"],
    [123456789, "1.23456789e+08"],
    [-1e100, "-1e+100"],
  ])("'g' %d -> %s", (v, s) => expect(formatFloatG(v)).toBe(s));

  it("writes YAML specials and JSON floats like Go", () => {
    expect(formatYamlFloat(Infinity)).toBe(".inf");
    expect(formatYamlFloat(-Infinity)).toBe("-.inf");
    expect(formatYamlFloat(NaN)).toBe(".nan");
    expect(formatJsonFloat(1e21)).toBe("1e+21");
    expect(formatJsonFloat(1.5e-7)).toBe("1.5e-7");
    expect(formatJsonFloat(-0)).toBe("-0");
  });
});
