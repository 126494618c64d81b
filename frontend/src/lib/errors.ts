import type { CombinedError } from "@urql/core";

import { asSentence } from "./text";

/** A sentence for a failed request: the server unreachable, or a GraphQL error. */
export function describeRequestError(error: CombinedError): string {
  if (error.networkError) {
    return "The server could not be reached. Check the connection and try again.";
  }
  const first = error.graphQLErrors[0];
  return first ? asSentence(first.message) : "Something went wrong. Try again.";
}
