/**
 * The API from the browser, per session (App.tsx): one graphql-ws socket (subscriptions, and
 * the header's live indicator; it authenticates in connection_init, so a new sign-in gets a new
 * socket) and an urql client for queries and mutations over HTTP, so that signing in or out
 * starts with an empty cache.
 */

import {
  Client,
  type ExecutionResult,
  cacheExchange,
  fetchExchange,
  mapExchange,
  subscriptionExchange,
} from "@urql/core";
import {
  type FormattedExecutionResult,
  type Client as SocketClient,
  createClient as createSocketClient,
} from "graphql-ws";

import { type Session, authHeaders, loadSession } from "./session";
import { type StatusStore, createStatusStore } from "./status";
import { graphqlHttpUrl, graphqlWsUrl } from "./urls";

export interface LiveConnection {
  readonly socket: SocketClient;
  readonly status: StatusStore;
}

type PageLocation = Pick<Location, "protocol" | "host">;

/** The websocket opens at once (not lazily) and keeps retrying while the server is away. */
export function createLiveConnection(location: PageLocation = window.location): LiveConnection {
  const status = createStatusStore();
  const socket = createSocketClient({
    url: graphqlWsUrl(location),
    lazy: false,
    // Read at every (re)connection, so a new sign-in is used from the next connection on.
    connectionParams: () => authHeaders(loadSession()),
    retryAttempts: Number.POSITIVE_INFINITY,
    shouldRetry: () => true,
    // A ping every 15 s notices a dead connection that never sent a close frame.
    keepAlive: 15_000,
    on: {
      connecting: () => status.apply("connecting"),
      opened: () => status.apply("opened"),
      connected: () => status.apply("connected"),
      closed: () => status.apply("closed"),
      error: () => status.apply("error"),
    },
  });
  return { socket, status };
}

/** What queries and mutations over HTTP accept. */
export const JSON_ACCEPT = "application/graphql-response+json, application/json";

export interface ClientOptions {
  readonly socket: SocketClient;
  readonly session: Session | null;
  /** Called when the server says the session is no longer valid. */
  readonly onUnauthenticated: () => void;
}

export function createGraphQLClient({ socket, session, onUnauthenticated }: ClientOptions) {
  return new Client({
    url: graphqlHttpUrl,
    // JSON only: a request that also accepts text/event-stream (urql's default) is taken by
    // the server as a subscription over Server-Sent Events.
    fetchOptions: () => ({ headers: { accept: JSON_ACCEPT, ...authHeaders(session) } }),
    exchanges: [
      mapExchange({
        onError(error) {
          const expired = error.graphQLErrors.some(
            (graphQLError) => graphQLError.extensions["code"] === "UNAUTHENTICATED",
          );
          if (expired && session) {
            onUnauthenticated();
          }
        },
      }),
      cacheExchange,
      fetchExchange,
      subscriptionExchange({
        forwardSubscription(request) {
          const input = { ...request, query: request.query ?? "" };
          return {
            subscribe(sink) {
              const unsubscribe = socket.subscribe(input, {
                next: (value) => sink.next(toExecutionResult(value)),
                error: (error) => sink.error(error),
                complete: () => sink.complete(),
              });
              return { unsubscribe };
            },
          };
        },
      }),
    ],
  });
}

/** graphql-ws's result as urql's: the same fields, with absent ones left out. */
function toExecutionResult(
  value: FormattedExecutionResult<Record<string, unknown>, unknown>,
): ExecutionResult {
  const result: ExecutionResult = {};
  if (value.data !== undefined) {
    result.data = value.data;
  }
  if (value.errors !== undefined) {
    result.errors = value.errors;
  }
  if (typeof value.extensions === "object" && value.extensions !== null) {
    result.extensions = value.extensions as Record<string, unknown>;
  }
  return result;
}
