import type { CombinedError } from "@urql/core";

import { asSentence } from "./text";

/** A sentence for a failed request: the server unreachable, or a GraphQL error. */
export function describeRequestError(error: CombinedError): string {
  if (error.networkError) {
    return "The server could not be reached. Check the connection and try again.";
  }
  const first = error.graphQLErrors[0];
  if (first?.extensions["code"] === "UNAUTHENTICATED") {
    return "Your session has ended: sign in again.";
  }
  return first ? asSentence(first.message) : "Something went wrong. Try again.";
}

/** A refused action, from a mutation's union result (`... on Error { code message }`). */
export interface Refusal {
  readonly code: string;
  readonly message: string;
  /** The input the refusal is about, when the error type names one. */
  readonly field: string | null;
  readonly currentStatus: string | null;
}

/** The refusal in a union result, or null when the result is the payload. */
export function refusalOf(result: object | null | undefined): Refusal | null {
  if (!result || !("code" in result) || !("message" in result)) {
    return null;
  }
  const { code, message } = result;
  if (typeof code !== "string" || typeof message !== "string") {
    return null;
  }
  const field = "field" in result && typeof result.field === "string" ? result.field : null;
  const currentStatus =
    "currentStatus" in result && typeof result.currentStatus === "string"
      ? result.currentStatus
      : null;
  return { code, message, field, currentStatus };
}

/** What to tell a person about a refusal: the server's sentence, and what to do next. */
export function refusalSentence(refusal: Pick<Refusal, "code" | "message">): string {
  const sentence = asSentence(refusal.message);
  switch (refusal.code) {
    case "STALE":
      return `${sentence} Someone changed it in the meantime: the page now shows the latest, so check it and try again.`;
    case "UNAUTHENTICATED":
      return "Your session has ended: sign in again.";
    case "IDEMPOTENCY_CONFLICT":
      return `${sentence} Reload the page and try again.`;
    default:
      return sentence || "The server refused this. Try again.";
  }
}

export type Outcome<T> =
  | { readonly kind: "done"; readonly value: T }
  | { readonly kind: "refused"; readonly text: string; readonly refusal: Refusal | null };

/**
 * One shape for every mutation's answer: the payload (when its __typename is `payloadType`), or
 * a sentence for a person, whether the request failed or the server refused.
 */
export function outcomeOf<D, T extends { readonly __typename: string }, P extends T["__typename"]>(
  result: { readonly error?: CombinedError | undefined; readonly data?: D | undefined },
  pick: (data: D) => T | null | undefined,
  payloadType: P,
): Outcome<Extract<T, { readonly __typename: P }>> {
  if (result.error) {
    return { kind: "refused", text: describeRequestError(result.error), refusal: null };
  }
  const value = result.data === undefined ? null : pick(result.data);
  if (!value) {
    return { kind: "refused", text: "The server sent no answer. Try again.", refusal: null };
  }
  if (value.__typename === payloadType) {
    return { kind: "done", value: value as Extract<T, { readonly __typename: P }> };
  }
  const refusal = refusalOf(value);
  return {
    kind: "refused",
    text: refusal ? refusalSentence(refusal) : "The server refused this. Try again.",
    refusal,
  };
}
