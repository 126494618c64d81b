import { describe, expect, it } from "vitest";

import { orderStatusSentence, safeTrackingUrl, shipmentStatusSentence } from "./tracking";

describe("tracking", () => {
  it("says where an order is", () => {
    expect(orderStatusSentence("PENDING")).toContain("Reserved for you");
    expect(orderStatusSentence("SHIPPED")).toBe("Shipped: on its way.");
    expect(shipmentStatusSentence("EXCEPTION")).toContain("problem");
  });

  it("links only to web addresses", () => {
    expect(safeTrackingUrl("https://track.example/1Z")).toBe("https://track.example/1Z");
    expect(safeTrackingUrl("javascript:alert(1)")).toBeNull();
    expect(safeTrackingUrl("not a url")).toBeNull();
    expect(safeTrackingUrl(null)).toBeNull();
  });
});
