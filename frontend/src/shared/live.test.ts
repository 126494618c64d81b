import { describe, expect, it } from "vitest";

import { retryDelay } from "./live";

describe("retryDelay", () => {
  it("tries the stream again soon, then less often", () => {
    expect([1, 2, 3, 4, 5, 6].map(retryDelay)).toEqual([
      2_000, 4_000, 8_000, 16_000, 30_000, 30_000,
    ]);
  });
});
