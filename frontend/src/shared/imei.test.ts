import { describe, expect, it } from "vitest";

import { checkImei, luhnValid, normalizeImei } from "./imei";

// 490154203237518 is the IMEI of the Luhn examples; 356938035643809 is another real-shaped one.
const VALID = ["490154203237518", "356938035643809", "353918058381985"];

describe("luhnValid", () => {
  it.each(VALID)("accepts %s", (imei) => {
    expect(luhnValid(imei)).toBe(true);
  });

  it("refuses every wrong check digit", () => {
    const body = "49015420323751";
    const wrong = "012345679".split("").filter((digit) => digit !== "8");
    for (const digit of wrong) {
      expect(luhnValid(body + digit)).toBe(false);
    }
  });

  it("catches a single mistyped digit and swapped neighbours", () => {
    expect(luhnValid("490154203237528")).toBe(false);
    expect(luhnValid("490154203273518")).toBe(false);
  });

  it("refuses anything but digits", () => {
    expect(luhnValid("")).toBe(false);
    expect(luhnValid("49015420323751a")).toBe(false);
  });
});

describe("normalizeImei", () => {
  it("drops spaces and dashes only", () => {
    expect(normalizeImei(" 49-015420 323751-8 ")).toBe("490154203237518");
    expect(normalizeImei("4901/5420")).toBe("4901/5420");
  });
});

describe("checkImei", () => {
  it("says nothing of an empty field", () => {
    expect(checkImei("")).toEqual({ kind: "empty" });
    expect(checkImei("  - ")).toEqual({ kind: "empty" });
  });

  it("accepts a valid IMEI as a scanner or a person types it", () => {
    expect(checkImei("490154203237518")).toEqual({ kind: "valid", imei: "490154203237518" });
    expect(checkImei("49 015420 323751 8")).toEqual({ kind: "valid", imei: "490154203237518" });
    expect(checkImei("49-015420-323751-8")).toEqual({ kind: "valid", imei: "490154203237518" });
  });

  it("counts digits while a person is still typing", () => {
    expect(checkImei("4901")).toEqual({ kind: "incomplete", digits: 4 });
    expect(checkImei("49015420323751")).toEqual({ kind: "incomplete", digits: 14 });
  });

  it("makes a short IMEI an error once the person is done", () => {
    const check = checkImei("4901", { final: true });
    expect(check.kind).toBe("invalid");
    expect(check.kind === "invalid" && check.message).toBe("An IMEI has 15 digits; this has 4.");
  });

  it("refuses letters and other characters at once", () => {
    expect(checkImei("4901x").kind).toBe("invalid");
    expect(checkImei("4901.5420").kind).toBe("invalid");
  });

  it("refuses more than 15 digits", () => {
    const check = checkImei("4901542032375180");
    expect(check).toEqual({ kind: "invalid", message: "An IMEI has 15 digits; this has 16." });
  });

  it("refuses a wrong check digit", () => {
    expect(checkImei("490154203237519")).toEqual({
      kind: "invalid",
      message: "This IMEI fails its check digit: it was probably mistyped.",
    });
  });
});
