import { describe, expect, it } from "vitest";

import { listingActions, listingBlockers } from "./pricing";

describe("listing actions", () => {
  it("follows LISTING_TRANSITIONS", () => {
    expect(listingActions("DRAFT")).toEqual(["publish", "reprice", "withdraw"]);
    expect(listingActions("ACTIVE")).toEqual(["reprice", "pause", "withdraw"]);
    expect(listingActions("PAUSED")).toContain("publish");
    expect(listingActions("RESERVED")).toEqual([]);
    expect(listingActions("SOLD")).toEqual([]);
  });

  it("names what keeps a device off the board (rule 1)", () => {
    const device = {
      lockStatus: "UNLOCKED",
      blacklistStatus: "CLEAN",
      currentGrade: { dataWiped: true },
    };
    expect(listingBlockers(device)).toEqual([]);
    expect(
      listingBlockers({ lockStatus: "LOCKED", blacklistStatus: "BLACKLISTED", currentGrade: null }),
    ).toEqual(["it has no grade", "it is locked", "it is blacklisted"]);
    expect(listingBlockers({ ...device, currentGrade: { dataWiped: false } })).toEqual([
      "its data is not wiped",
    ]);
  });
});
