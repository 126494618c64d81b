/** Where the API is, from the page's own address: the app serves both. */

export const GRAPHQL_PATH = "/graphql";

type PageLocation = Pick<Location, "protocol" | "host">;

/** The HTTP endpoint for queries and mutations: same origin, so a path is enough. */
export const graphqlHttpUrl = GRAPHQL_PATH;

/** ws://host/graphql for a page on http, wss://host/graphql for a page on https. */
export function graphqlWsUrl(location: PageLocation): string {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  return `${scheme}//${location.host}${GRAPHQL_PATH}`;
}
