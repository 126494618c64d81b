import { describe, expect, it } from "vitest";

import {
  humanize,
  listingUnavailableSentence,
  offerStatusSentence,
  statusLabel,
  statusTone,
} from "./labels";

describe("labels", () => {
  it("reads an enum as words", () => {
    expect(humanize("LABEL_CREATED")).toBe("Label created");
    expect(statusLabel("IN_TRANSIT")).toBe("In transit");
  });

  it("gives each status a tone", () => {
    expect(statusTone("AVAILABLE")).toBe("ok");
    expect(statusTone("INVALIDATED")).toBe("error");
    expect(statusTone("RESERVED")).toBe("warn");
    expect(statusTone("SOMETHING_NEW")).toBe("neutral");
  });

  it("says what an offer's status means to the buyer", () => {
    expect(offerStatusSentence("INVALIDATED", "BUYER")).toBe(
      "Invalidated: the device is no longer for sale.",
    );
    expect(offerStatusSentence("PENDING", "SELLER")).toBe(
      "The seller's counter: your turn to answer.",
    );
    expect(offerStatusSentence("PENDING", "BUYER")).toBe("Waiting for the seller's answer.");
  });

  it("says why a listing is off the board, in the API's words", () => {
    expect(listingUnavailableSentence("ACTIVE")).toBeNull();
    expect(listingUnavailableSentence("RESERVED")).toBe(
      "This listing is reserved: it is not for sale any more.",
    );
    expect(listingUnavailableSentence("PAUSED")).toContain("paused");
  });
});
