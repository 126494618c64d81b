import { describe, expect, it } from "vitest";

import { formatDay, isoDay, timeLeft } from "./dates";

describe("dates", () => {
  it("shows a Date scalar without moving it across a time zone", () => {
    expect(formatDay("2026-11-01")).toBe("1 Nov 2026");
    expect(formatDay("yesterday")).toBe("yesterday");
    expect(isoDay(new Date(Date.UTC(2026, 10, 28, 23, 59)))).toBe("2026-11-28");
  });

  it("says how long an offer has left", () => {
    const now = Date.parse("2026-11-28T12:00:00Z");
    expect(timeLeft("2026-11-30T12:00:00Z", now)).toBe("in 48 hours");
    expect(timeLeft("2026-11-28T12:05:00Z", now)).toBe("in 5 minutes");
    expect(timeLeft("2026-11-28T11:00:00Z", now)).toBe("expired");
  });
});
