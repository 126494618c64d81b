import { describe, expect, it } from "vitest";

import type { LiveEvent } from "../shared/liveEvents";
import { EMPTY_STREAM, KEEP, formatLag, lagSummary, parseTypes, streamReducer } from "./stream";

function event(n: number, occurredAt = "2026-11-28T12:00:00.000Z"): LiveEvent {
  return {
    cursor: `c${n}`,
    type: "listing.price_changed",
    entityType: "Listing",
    entityId: "TGlzdGluZzox",
    entityVersion: n,
    occurredAt,
    actor: null,
    changes: {},
  };
}

const AT = Date.parse("2026-11-28T12:00:00.000Z");

describe("streamReducer", () => {
  it("keeps events newest first, with their cursor and lag", () => {
    let state = streamReducer(EMPTY_STREAM, {
      type: "received",
      event: event(1),
      receivedAt: AT + 40,
    });
    state = streamReducer(state, { type: "received", event: event(2), receivedAt: AT + 15 });
    expect(state.items.map((item) => item.event.cursor)).toEqual(["c2", "c1"]);
    expect(state.items.map((item) => item.lagMs)).toEqual([15, 40]);
    expect(state.cursor).toBe("c2");
    expect(state.total).toBe(2);
  });

  it("shows an event sent again after a resume only once", () => {
    let state = streamReducer(EMPTY_STREAM, { type: "received", event: event(1), receivedAt: AT });
    const again = streamReducer(state, { type: "received", event: event(1), receivedAt: AT + 5 });
    expect(again).toBe(state);
    state = streamReducer(state, { type: "resumed", after: "c1" });
    expect(state.resumes).toBe(1);
    expect(state.resumedFrom).toBe("c1");
  });

  it("keeps the newest KEEP events", () => {
    let state = EMPTY_STREAM;
    for (let n = 0; n < KEEP + 5; n += 1) {
      state = streamReducer(state, { type: "received", event: event(n), receivedAt: AT });
    }
    expect(state.items).toHaveLength(KEEP);
    expect(state.total).toBe(KEEP + 5);
    expect(state.items[0]?.event.cursor).toBe(`c${KEEP + 4}`);
  });

  it("starts over from a cursor", () => {
    const state = streamReducer(EMPTY_STREAM, {
      type: "received",
      event: event(1),
      receivedAt: AT,
    });
    expect(streamReducer(state, { type: "reset", after: "c0" })).toEqual({
      ...EMPTY_STREAM,
      cursor: "c0",
    });
  });
});

describe("lag", () => {
  it("summarises the last events", () => {
    const items = [10, 30, 20, 500].map((lagMs, n) => ({ event: event(n), receivedAt: AT, lagMs }));
    expect(lagSummary(items)).toEqual({ last: 10, median: 25, max: 500 });
    expect(lagSummary([])).toEqual({ last: null, median: null, max: null });
  });

  it("reads as a duration", () => {
    expect(formatLag(null)).toBe("—");
    expect(formatLag(85)).toBe("85 ms");
    expect(formatLag(2_500)).toBe("2.5 s");
    expect(formatLag(180_000)).toBe("3 min");
  });

  it("parses the type filter", () => {
    expect(parseTypes(" order.shipped, listing.price_changed ")).toEqual([
      "order.shipped",
      "listing.price_changed",
    ]);
    expect(parseTypes("  ")).toBeNull();
  });
});
