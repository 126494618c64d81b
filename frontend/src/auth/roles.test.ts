import { describe, expect, it } from "vitest";

import { canReceiveDevices, roleLabel } from "./roles";

describe("canReceiveDevices", () => {
  it("offers intake to the operator's warehouse and admins", () => {
    expect(canReceiveDevices({ role: "WAREHOUSE", organizationKind: "OPERATOR" })).toBe(true);
    expect(canReceiveDevices({ role: "ADMIN", organizationKind: "OPERATOR" })).toBe(true);
  });

  it("does not offer it to other roles or organisations", () => {
    expect(canReceiveDevices({ role: "SALES", organizationKind: "OPERATOR" })).toBe(false);
    expect(canReceiveDevices({ role: "FINANCE", organizationKind: "OPERATOR" })).toBe(false);
    expect(canReceiveDevices({ role: "ADMIN", organizationKind: "CLIENT" })).toBe(false);
    expect(canReceiveDevices({ role: "BUYER", organizationKind: "BUYER" })).toBe(false);
  });
});

describe("roleLabel", () => {
  it("reads as a word", () => {
    expect(roleLabel("WAREHOUSE")).toBe("Warehouse");
  });
});
