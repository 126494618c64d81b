import { describe, expect, it } from "vitest";

import { globalId } from "../shared/liveEvents";
import { applyListUpdate } from "../shared/liveList";
import { boardVariables, compareListings, fromListingBoard, rowNumber } from "./liveBoard";

function listing(row: number, priceMinor: string) {
  return { id: globalId("Listing", row), price: { amountMinor: priceMinor } };
}

const OLD = listing(1, "30000");
const CHEAP = listing(2, "10000");
const NEW = listing(3, "20000");

describe("compareListings", () => {
  it("orders as the server does for each sort", () => {
    const rows = [CHEAP, OLD, NEW];
    expect([...rows].sort(compareListings("NEWEST"))).toEqual([NEW, CHEAP, OLD]);
    expect([...rows].sort(compareListings("PRICE_ASC"))).toEqual([CHEAP, NEW, OLD]);
    expect([...rows].sort(compareListings("PRICE_DESC"))).toEqual([OLD, NEW, CHEAP]);
  });

  it("breaks a price tie by id, and reads minor units without a float", () => {
    const twin = listing(7, "10000");
    expect([twin, CHEAP].sort(compareListings("PRICE_ASC"))).toEqual([CHEAP, twin]);
    expect([CHEAP, twin].sort(compareListings("PRICE_DESC"))).toEqual([twin, CHEAP]);
    const big = listing(8, "900719925474099300");
    const bigger = listing(9, "900719925474099301");
    expect([bigger, big].sort(compareListings("PRICE_ASC"))).toEqual([big, bigger]);
  });

  it("reads the row id of a global id", () => {
    expect(rowNumber(globalId("Listing", 42))).toBe(42);
    expect(rowNumber("not base64!")).toBe(0);
  });
});

describe("the board from listingBoard", () => {
  const key = JSON.stringify(boardVariables({ make: "Apple" }, 100));

  it("follows a snapshot, a sale elsewhere, a new listing and a new price", () => {
    let board = applyListUpdate(
      null,
      key,
      fromListingBoard({
        kind: "SNAPSHOT",
        listings: [NEW, OLD],
        removedIds: [],
        cursor: "c1",
        totalCount: 2,
        hasMore: false,
      }),
    );
    board = applyListUpdate(
      board,
      key,
      fromListingBoard({
        kind: "REMOVED",
        listings: [],
        removedIds: [NEW.id],
        cursor: "c2",
        hasMore: false,
      }),
    );
    expect(board?.items).toEqual([OLD]);
    board = applyListUpdate(
      board,
      key,
      fromListingBoard({
        kind: "ADDED",
        listings: [CHEAP],
        removedIds: [],
        cursor: "c3",
        hasMore: false,
      }),
    );
    const repriced = { ...OLD, price: { amountMinor: "25000" } };
    board = applyListUpdate(
      board,
      key,
      fromListingBoard({
        kind: "CHANGED",
        listings: [repriced],
        removedIds: [],
        cursor: "c4",
        hasMore: false,
      }),
    );
    expect(board?.items).toEqual([CHEAP, repriced]);
    expect(board?.totalCount).toBe(2);
    expect(board?.cursor).toBe("c4");
  });

  it("a new filter is a new key", () => {
    expect(JSON.stringify(boardVariables({ make: "Samsung" }, 100))).not.toBe(key);
    expect(JSON.stringify(boardVariables({ make: "Apple" }, 100))).toBe(key);
  });
});
