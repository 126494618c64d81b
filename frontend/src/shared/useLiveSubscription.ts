/**
 * A domain subscription (current state first, then each change) over the session's socket.
 * `onData(data, key)` gets every result with the key of the variables it was asked with. A new
 * key (other variables) subscribes afresh; so do LAGGED and a connection that comes back after
 * dropping: each starts with a new snapshot, which is the catch-up. If the server refuses the
 * subscription for another reason than the request itself, the view polls with its query
 * (`onPoll` every 5 s, mode "polling") and the stream is tried again after 2 s, 4 s, ... up to
 * 30 s; its first result switches the live path back on.
 */

import type { TypedDocumentNode } from "@graphql-typed-document-node/core";
import { stringifyDocument } from "@urql/core";
import { useEffect, useRef, useState } from "react";

import { type LiveMode, retryDelay, useLiveConnection } from "./live";
import { createResyncTracker } from "./liveEvents";
import { failureAction } from "./liveList";

const POLL_MS = 5_000;

export interface LiveSubscription {
  /** "polling" while the server refuses the stream (the view's query stands in). */
  readonly mode: LiveMode;
  /** The server refused this request (not found, not allowed): the query says why. */
  readonly refused: boolean;
  /** The key of the current variables (what `onData` gets with each result). */
  readonly key: string;
}

export function useLiveSubscription<TData, TVariables extends Record<string, unknown>>(
  document: TypedDocumentNode<TData, TVariables>,
  variables: TVariables,
  onData: (data: TData, key: string) => void,
  onPoll: () => void,
): LiveSubscription {
  const live = useLiveConnection();
  const callbacks = useRef({ onData, onPoll });
  useEffect(() => {
    callbacks.current = { onData, onPoll };
  });
  const key = JSON.stringify(variables);
  const query = stringifyDocument(document);
  const [attempt, setAttempt] = useState(0);
  const [failures, setFailures] = useState(0);
  const [refusedKey, setRefusedKey] = useState<string | null>(null);

  useEffect(() => {
    let closed = false;
    let failedThisAttempt = false;
    const fail = (error: unknown) => {
      if (closed || failedThisAttempt) {
        return;
      }
      failedThisAttempt = true;
      const action = failureAction(error);
      if (action === "resubscribe") {
        setAttempt((value) => value + 1);
      } else if (action === "refused") {
        setRefusedKey(key);
      } else {
        setFailures((value) => value + 1);
      }
    };
    const dispose = live.socket.subscribe<TData>(
      { query, variables: JSON.parse(key) as Record<string, unknown> },
      {
        next: (result) => {
          if (closed) {
            return;
          }
          if (result.errors?.length) {
            fail(result.errors);
          } else if (result.data) {
            setFailures(0);
            callbacks.current.onData(result.data as TData, key);
          }
        },
        error: fail,
        complete: () => undefined,
      },
    );
    const resync = createResyncTracker(live.status.get());
    const stopWatching = live.status.subscribe(() => {
      if (resync(live.status.get())) {
        setAttempt((value) => value + 1); // what changed meanwhile: a fresh snapshot
      }
    });
    return () => {
      closed = true;
      stopWatching();
      dispose();
    };
  }, [query, key, live, attempt]);

  useEffect(() => {
    if (failures === 0) {
      return;
    }
    callbacks.current.onPoll();
    const poll = window.setInterval(() => callbacks.current.onPoll(), POLL_MS);
    const retry = window.setTimeout(() => setAttempt((value) => value + 1), retryDelay(failures));
    return () => {
      window.clearInterval(poll);
      window.clearTimeout(retry);
    };
  }, [failures]);

  return { mode: failures > 0 ? "polling" : "stream", refused: refusedKey === key, key };
}
