import { describe, expect, it } from "vitest";
import { suggestClosest } from "../../src/core/suggest.js";

describe("suggestClosest", () => {
  it("finds a near miss, whatever the case", () => {
    expect(suggestClosest("replica", ["name", "replicas", "mode"])).toBe("replicas");
    expect(suggestClosest("Mode", ["name", "replicas", "mode"])).toBe("mode");
    expect(suggestClosest("mx", ["max", "min"])).toBe("max");
  });

  it("suggests nothing far away, nor the word itself", () => {
    expect(suggestClosest("zzzzzzzz", ["name", "replicas"])).toBeNull();
    expect(suggestClosest("name", ["name"])).toBeNull();
    expect(suggestClosest("x", [])).toBeNull();
  });

  it("breaks ties alphabetically, not by order", () => {
    expect(suggestClosest("bat", ["cat", "bad"])).toBe("bad");
    expect(suggestClosest("bat", ["bad", "cat"])).toBe("bad");
  });
});
