import { describe, expect, it } from "vitest";

import {
  asLiveEvent,
  changedStatus,
  createResyncTracker,
  decodeGlobalId,
  globalId,
  streamErrorOf,
  variablesFor,
} from "./liveEvents";

const RAW = {
  cursor: "ZXYxOjA6MzE",
  type: "listing.reserved",
  entityType: "Listing",
  entityId: "TGlzdGluZzo0NA==",
  entityVersion: 3,
  occurredAt: "2026-11-28T12:00:00+00:00",
  changes: { status: "RESERVED", deviceId: 64 },
};

describe("live events", () => {
  it("asks the server for one topic", () => {
    expect(variablesFor({ entityType: "Offer" })).toEqual({
      types: null,
      entityType: "Offer",
      entityId: null,
      after: null,
    });
    expect(variablesFor({ types: ["device.graded"] }, "c1")).toEqual({
      types: ["device.graded"],
      entityType: null,
      entityId: null,
      after: "c1",
    });
  });

  it("reads an event and its new status", () => {
    const event = asLiveEvent(RAW);
    expect(event.actor).toBeNull();
    expect(changedStatus(event)).toBe("RESERVED");
    expect(changedStatus(asLiveEvent({ ...RAW, changes: "odd" }))).toBeNull();
  });

  it("decodes relay global ids", () => {
    expect(decodeGlobalId("TGlzdGluZzo0NA==")).toEqual({ type: "Listing", id: "44" });
    expect(globalId("Listing", 44)).toBe("TGlzdGluZzo0NA==");
    expect(decodeGlobalId("not base64!")).toBeNull();
  });

  it("reads LAGGED and its cursor from a subscription error", () => {
    expect(
      streamErrorOf([{ message: "behind", extensions: { code: "LAGGED", cursor: "c9" } }]),
    ).toEqual({
      code: "LAGGED",
      cursor: "c9",
    });
    expect(streamErrorOf(new Error("closed"))).toEqual({ code: null, cursor: null });
  });
});

describe("createResyncTracker", () => {
  it("asks for a fetch each time the connection is back, not on the first connection", () => {
    const resync = createResyncTracker("connecting");
    expect(resync("connecting")).toBe(false);
    expect(resync("live")).toBe(false);
    expect(resync("offline")).toBe(false);
    expect(resync("connecting")).toBe(false);
    expect(resync("live")).toBe(true);
    expect(resync("live")).toBe(false);
  });

  it("counts a view opened while live as having been live", () => {
    const resync = createResyncTracker("live");
    expect(resync("offline")).toBe(false);
    expect(resync("live")).toBe(true);
  });
});
