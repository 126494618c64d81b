import { describe, expect, it } from "vitest";

import { roleLabel } from "./roles";

describe("roleLabel", () => {
  it("reads as a word", () => {
    expect(roleLabel("WAREHOUSE")).toBe("Warehouse");
  });
});
