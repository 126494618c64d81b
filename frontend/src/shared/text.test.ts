import { describe, expect, it } from "vitest";

import { asSentence } from "./text";

describe("asSentence", () => {
  it("keeps a sentence as it is", () => {
    expect(asSentence("No client has that id.")).toBe("No client has that id.");
  });

  it("capitalises and closes a fragment", () => {
    expect(asSentence("  make must have 1 to 100 characters ")).toBe(
      "Make must have 1 to 100 characters.",
    );
  });

  it("leaves nothing as nothing", () => {
    expect(asSentence("   ")).toBe("");
  });
});
