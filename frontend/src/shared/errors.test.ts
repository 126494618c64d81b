import { CombinedError } from "@urql/core";
import { describe, expect, it } from "vitest";

import { describeRequestError, outcomeOf, refusalOf, refusalSentence } from "./errors";

describe("refusals", () => {
  it("finds the refusal in a union result, with its field and status", () => {
    expect(
      refusalOf({
        __typename: "NotAvailableError",
        code: "LISTING_NOT_AVAILABLE",
        message: "This listing is reserved: it takes no offers.",
        currentStatus: "RESERVED",
      }),
    ).toEqual({
      code: "LISTING_NOT_AVAILABLE",
      message: "This listing is reserved: it takes no offers.",
      field: null,
      currentStatus: "RESERVED",
    });
    expect(refusalOf({ __typename: "OfferPayload", offer: {} })).toBeNull();
    expect(refusalOf(null)).toBeNull();
  });

  it("says what to do next when it helps", () => {
    expect(refusalSentence({ code: "INVALID_INPUT", message: "amount is above the price" })).toBe(
      "Amount is above the price.",
    );
    expect(refusalSentence({ code: "STALE", message: "The listing changed." })).toMatch(
      /^The listing changed\. Someone changed it in the meantime/,
    );
    expect(refusalSentence({ code: "UNAUTHENTICATED", message: "Sign in." })).toBe(
      "Your session has ended: sign in again.",
    );
  });
});

describe("describeRequestError", () => {
  it("tells a network failure from a GraphQL error", () => {
    expect(describeRequestError(new CombinedError({ networkError: new Error("down") }))).toBe(
      "The server could not be reached. Check the connection and try again.",
    );
    expect(
      describeRequestError(new CombinedError({ graphQLErrors: [{ message: "no such field" }] })),
    ).toBe("No such field.");
  });
});

describe("outcomeOf", () => {
  type Result =
    | { __typename: "OfferPayload"; id: string }
    | { __typename: "StaleError"; code: string; message: string };
  const pick = (data: { makeOffer: Result }) => data.makeOffer;

  it("gives the payload when the result is the payload", () => {
    const outcome = outcomeOf(
      { data: { makeOffer: { __typename: "OfferPayload", id: "1" } } },
      pick,
      "OfferPayload",
    );
    expect(outcome).toEqual({ kind: "done", value: { __typename: "OfferPayload", id: "1" } });
  });

  it("gives a sentence for a refusal or a failed request", () => {
    const refused = outcomeOf(
      { data: { makeOffer: { __typename: "StaleError", code: "STALE", message: "changed" } } },
      pick,
      "OfferPayload",
    );
    expect(refused.kind).toBe("refused");
    expect(refused.kind === "refused" && refused.refusal?.code).toBe("STALE");
    const failed = outcomeOf(
      { error: new CombinedError({ networkError: new Error("x") }) },
      pick,
      "OfferPayload",
    );
    expect(failed).toEqual({
      kind: "refused",
      text: "The server could not be reached. Check the connection and try again.",
      refusal: null,
    });
  });
});
