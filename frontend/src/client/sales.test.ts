import { describe, expect, it } from "vitest";

import { saleOutcomes } from "./sales";

describe("saleOutcomes", () => {
  it("pairs each sold device with the line of its live settlement", () => {
    const devices = [{ id: "d1" }, { id: "d2" }, { id: "d3" }];
    const settlements = [
      { id: "s2", status: "DRAFT", lines: [{ id: "l3", device: { id: "d1" } }] },
      {
        id: "s1",
        status: "VOID",
        lines: [
          { id: "l1", device: { id: "d1" } },
          { id: "l2", device: { id: "d2" } },
        ],
      },
      { id: "s0", status: "PAID", lines: [{ id: "l0", device: null }] },
    ];
    const outcomes = saleOutcomes(devices, settlements);
    expect(
      outcomes.map((row) => [row.device.id, row.line?.id ?? null, row.settlement?.id ?? null]),
    ).toEqual([
      ["d1", "l3", "s2"],
      ["d2", null, null],
      ["d3", null, null],
    ]);
  });
});
