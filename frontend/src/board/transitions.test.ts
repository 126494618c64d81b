import { describe, expect, it } from "vitest";

import { NO_DIFF, diffBoard, withLeaving } from "./transitions";

const entry = (id: string, priceMinor = "100", grade: string | null = "A") => ({
  id,
  priceMinor,
  grade,
});

describe("diffBoard", () => {
  it("shows nothing as changed on the first fetch", () => {
    expect(diffBoard(null, [entry("a")])).toBe(NO_DIFF);
  });

  it("finds new listings, the ones that left (with their place), new prices and grades", () => {
    const diff = diffBoard(
      [entry("a"), entry("b"), entry("c", "300", "B")],
      [entry("c", "250", "C"), entry("a"), entry("d")],
    );
    expect(diff.added).toEqual(["d"]);
    expect(diff.removed).toEqual([{ id: "b", index: 1 }]);
    expect([...diff.priceChanged]).toEqual([["c", "300"]]);
    expect([...diff.gradeChanged]).toEqual([["c", "B"]]);
  });
});

describe("withLeaving", () => {
  const row = (id: string) => ({ id });

  it("puts leaving rows back where they were", () => {
    const placed = withLeaving([row("a"), row("c")], [{ row: row("b"), index: 1 }]);
    expect(placed.map((item) => [item.row.id, item.leaving])).toEqual([
      ["a", false],
      ["b", true],
      ["c", false],
    ]);
  });

  it("marks a row still fetched as leaving when the stream said so, without doubling it", () => {
    const placed = withLeaving([row("a"), row("b")], [{ row: row("b"), index: 1 }]);
    expect(placed.map((item) => [item.row.id, item.leaving])).toEqual([
      ["a", false],
      ["b", true],
    ]);
  });

  it("clamps an old place past the end of a shorter list", () => {
    const placed = withLeaving([row("a")], [{ row: row("z"), index: 9 }]);
    expect(placed.map((item) => item.row.id)).toEqual(["a", "z"]);
  });
});
