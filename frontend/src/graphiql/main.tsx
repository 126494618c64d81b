/**
 * GraphiQL from the app's own bundle: strawberry's built-in page loads its scripts from a
 * public CDN, which a machine without internet never reaches. Queries go over HTTP to
 * /graphql, subscriptions over graphql-ws on the same path.
 */

import "./workers";
import "graphiql/style.css";

import { createGraphiQLFetcher } from "@graphiql/toolkit";
import { GraphiQL } from "graphiql";
import { createClient } from "graphql-ws";
import { StrictMode } from "react";
import { createRoot } from "react-dom/client";

import { authHeaders, loadSession } from "../api/session";
import { GRAPHQL_PATH, graphqlWsUrl } from "../api/urls";

// Signed in to the app in this browser? Then GraphiQL asks as that person (reload after
// signing in or out); the Headers tab can add or override headers.
const signedIn = authHeaders(loadSession());

const fetcher = createGraphiQLFetcher({
  url: `${window.location.origin}${GRAPHQL_PATH}`,
  headers: signedIn,
  wsClient: createClient({
    url: graphqlWsUrl(window.location),
    connectionParams: signedIn,
    retryAttempts: 3,
  }),
});

const root = document.getElementById("graphiql");
if (!root) {
  throw new Error("graphiql.html has no #graphiql element");
}

const DEFAULT_QUERY = `# Ctrl-Enter runs; Ctrl-Space completes.
# Runs as you when you are signed in to the app.

query Devices {
  viewer {
    user {
      name
      role
    }
  }
  devices(first: 10) {
    totalCount
    edges {
      node {
        id
        imei
        make
        model
        status
        client {
          name
        }
      }
    }
  }
}
`;

createRoot(root).render(
  <StrictMode>
    <GraphiQL fetcher={fetcher} defaultQuery={DEFAULT_QUERY} />
  </StrictMode>,
);
