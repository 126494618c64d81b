import { describe, expect, it } from "vitest";

import { can, homeRoute, mayOpen, navFor } from "./access";

describe("access", () => {
  const warehouse = { role: "WAREHOUSE", organizationKind: "OPERATOR" } as const;
  const sales = { role: "SALES", organizationKind: "OPERATOR" } as const;
  const admin = { role: "ADMIN", organizationKind: "OPERATOR" } as const;
  const buyer = { role: "BUYER", organizationKind: "BUYER" } as const;
  const client = { role: "VIEWER", organizationKind: "CLIENT" } as const;

  it("mirrors app/auth/policy.py", () => {
    expect(can(warehouse, "receiveDevices")).toBe(true);
    expect(can(warehouse, "shipOrders")).toBe(true);
    expect(can(warehouse, "manageListings")).toBe(false);
    expect(can(sales, "manageListings")).toBe(true);
    expect(can(sales, "receiveDevices")).toBe(false);
    expect(can(buyer, "buy")).toBe(true);
    expect(can(buyer, "answerOffers")).toBe(false);
    expect(can(client, "buy")).toBe(false);
    expect(can({ role: "ADMIN", organizationKind: "CLIENT" }, "receiveDevices")).toBe(false);
    expect(can(admin, "settle")).toBe(true);
    expect(can(admin, "buy")).toBe(false);
  });

  it("offers each role its views, its work first", () => {
    expect(navFor(buyer).map((item) => item.route)).toEqual(["board", "myOffers", "myOrders"]);
    expect(navFor(client).map((item) => item.label)).toEqual([
      "My devices",
      "My sales",
      "My settlements",
    ]);
    expect(navFor(warehouse).map((item) => item.route)).toEqual([
      "devices",
      "receiving",
      "shipping",
    ]);
    expect(homeRoute(sales)).toBe("offersInbox");
    expect(homeRoute({ role: "FINANCE", organizationKind: "OPERATOR" })).toBe("settlements");
    expect(navFor(admin).map((item) => item.route)).toContain("integrations");
    expect(navFor(sales).map((item) => item.route)).not.toContain("integrations");
  });

  it("opens only the views of one's role", () => {
    expect(mayOpen(buyer, "listing")).toBe(true);
    expect(mayOpen(buyer, "order")).toBe(true);
    expect(mayOpen(buyer, "shipping")).toBe(false);
    expect(mayOpen(client, "board")).toBe(false);
    expect(mayOpen(warehouse, "home")).toBe(true);
  });
});
