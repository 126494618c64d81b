import { describe, expect, it } from "vitest";

import { compareMinor, formatMoney, minorDigits, minorToDecimal, parseMoneyInput } from "./money";

describe("formatMoney", () => {
  it("formats the decimal string with the currency's symbol and grouping", () => {
    expect(formatMoney({ amount: "1299.00", currency: "EUR" })).toBe("€1,299.00");
    expect(formatMoney({ amount: "450.5", currency: "EUR" })).toBe("€450.50");
    expect(formatMoney({ amount: "0.07", currency: "GBP" })).toBe("£0.07");
    expect(formatMoney({ amount: "1234567", currency: "JPY" })).toBe("JP¥1,234,567");
  });

  it("never rounds through a float", () => {
    expect(formatMoney({ amount: "90071992547409.93", currency: "EUR" })).toBe(
      "€90,071,992,547,409.93",
    );
  });

  it("marks a negative amount (a client owing its fee)", () => {
    expect(formatMoney({ amount: "-5.00", currency: "EUR" })).toBe("\u2212€5.00");
  });

  it("shows what it cannot read as it is", () => {
    expect(formatMoney({ amount: "n/a", currency: "EUR" })).toBe("n/a EUR");
  });
});

describe("minor units", () => {
  it("knows each currency's decimals", () => {
    expect(minorDigits("EUR")).toBe(2);
    expect(minorDigits("JPY")).toBe(0);
  });

  it("turns minor units into a decimal for a form", () => {
    expect(minorToDecimal("45050", "EUR")).toBe("450.50");
    expect(minorToDecimal("7", "EUR")).toBe("0.07");
    expect(minorToDecimal("-500", "EUR")).toBe("-5.00");
    expect(minorToDecimal("1200", "JPY")).toBe("1200");
  });

  it("compares exactly", () => {
    expect(compareMinor("45000", "45001")).toBe(-1);
    expect(compareMinor("9007199254740993", "9007199254740992")).toBe(1);
    expect(compareMinor("10", "10")).toBe(0);
  });
});

describe("parseMoneyInput", () => {
  it("reads what people type", () => {
    expect(parseMoneyInput("450", "EUR")).toEqual({ kind: "valid", minor: "45000" });
    expect(parseMoneyInput("450.5", "EUR")).toEqual({ kind: "valid", minor: "45050" });
    expect(parseMoneyInput(" 1,299.00 ", "EUR")).toEqual({ kind: "valid", minor: "129900" });
    expect(parseMoneyInput("€ 12", "EUR")).toEqual({ kind: "valid", minor: "1200" });
    expect(parseMoneyInput("EUR 12.5", "EUR")).toEqual({ kind: "valid", minor: "1250" });
    expect(parseMoneyInput("abc", "EUR").kind).toBe("invalid");
    expect(parseMoneyInput(".5", "EUR")).toEqual({ kind: "valid", minor: "50" });
    expect(parseMoneyInput("0", "EUR")).toEqual({ kind: "valid", minor: "0" });
    expect(parseMoneyInput("", "EUR")).toEqual({ kind: "empty" });
  });

  it("refuses what is not an amount, with a sentence", () => {
    expect(parseMoneyInput("4OO", "EUR")).toEqual({
      kind: "invalid",
      message: "Enter an amount in figures, such as 450 or 450.50.",
    });
    expect(parseMoneyInput("-5", "EUR").kind).toBe("invalid");
    expect(parseMoneyInput("1.234", "EUR")).toEqual({
      kind: "invalid",
      message: "EUR amounts have at most 2 decimals.",
    });
    expect(parseMoneyInput("5.5", "JPY")).toEqual({
      kind: "invalid",
      message: "JPY amounts have no decimals.",
    });
  });
});
