/**
 * Live views: `useLiveEvents(topics, onEvents)` subscribes to the change stream (one
 * subscription per topic over the page's one socket) and hands each burst of events to the view,
 * which re-fetches what they touch. After a dropped connection it calls `onEvents([])` once the
 * connection is back, so the view fetches everything again and shows nothing stale. If the
 * server refuses the subscription (an older server, or a failure on its side) the view polls
 * instead and tries the stream again, sooner at first (retryDelay).
 */

import { stringifyDocument } from "@urql/core";
import {
  createContext,
  useContext,
  useEffect,
  useRef,
  useState,
  useSyncExternalStore,
} from "react";

import type { LiveConnection } from "../api/client";
import type { LiveEventsSubscription as LiveEventsResult } from "../gql/graphql";
import {
  type LiveEvent,
  type LiveTopic,
  asLiveEvent,
  createResyncTracker,
  streamErrorOf,
  variablesFor,
} from "./liveEvents";
import { LiveEventsSubscription } from "./operations";

const LiveContext = createContext<LiveConnection | null>(null);

export const LiveProvider = LiveContext.Provider;

export function useLiveConnection(): LiveConnection {
  const live = useContext(LiveContext);
  if (!live) {
    throw new Error("useLiveConnection needs a LiveProvider");
  }
  return live;
}

export function useConnectionStatus() {
  const { status } = useLiveConnection();
  return useSyncExternalStore(status.subscribe, status.get);
}

export const LIVE_EVENTS_QUERY = stringifyDocument(LiveEventsSubscription);

/** Events that arrive together (one transaction's) are handed over as one batch. */
const BATCH_MS = 25;
const POLL_MS = 5_000;
const ACCEPTED_AFTER_MS = 3_000;
/** After a refused subscription: try the stream again after 2 s, 4 s, ... up to 30 s. */
export function retryDelay(failures: number): number {
  return Math.min(30_000, 2_000 * 2 ** Math.max(0, failures - 1));
}

export type LiveMode = "stream" | "polling";

export function useLiveEvents(
  topics: readonly LiveTopic[],
  onEvents: (events: readonly LiveEvent[]) => void,
): LiveMode {
  const live = useLiveConnection();
  const callback = useRef(onEvents);
  useEffect(() => {
    callback.current = onEvents;
  });
  const key = JSON.stringify(topics);
  const [attempt, setAttempt] = useState(0);
  // Attempts refused in a row; while above 0 the view polls (and says so).
  const [failures, setFailures] = useState(0);
  const failing = useRef(false);
  failing.current = failures > 0;

  useEffect(() => {
    const parsed = JSON.parse(key) as LiveTopic[];
    let pending: LiveEvent[] = [];
    let timer: number | undefined;
    let closed = false;
    const flush = () => {
      timer = undefined;
      const batch = pending;
      pending = [];
      if (!closed) {
        callback.current(batch);
      }
    };
    /** Queue an event, or with none a "fetch everything" signal. */
    const push = (event?: LiveEvent) => {
      if (event) {
        pending.push(event);
      }
      timer ??= window.setTimeout(flush, BATCH_MS);
    };
    let failedThisAttempt = false;
    const fail = (error: unknown) => {
      if (closed) {
        return;
      }
      push();
      if (streamErrorOf(error).code === "LAGGED") {
        setAttempt((value) => value + 1); // too far behind: fetch again, then stream afresh
      } else if (!failedThisAttempt) {
        failedThisAttempt = true;
        setFailures((value) => value + 1);
      }
    };
    const disposers = parsed.map((topic) =>
      live.socket.subscribe<LiveEventsResult>(
        { query: LIVE_EVENTS_QUERY, variables: { ...variablesFor(topic) } },
        {
          next: (result) => {
            if (result.errors?.length) {
              fail(result.errors);
            } else if (result.data?.events) {
              setFailures(0);
              push(asLiveEvent(result.data.events));
            }
          },
          error: fail,
          complete: () => undefined,
        },
      ),
    );
    // A refusal comes at once; a retry that stays quiet this long is taken as streaming.
    const accepted = failing.current
      ? window.setTimeout(() => {
          if (!failedThisAttempt && !closed) {
            setFailures(0);
          }
        }, ACCEPTED_AFTER_MS)
      : undefined;
    const resync = createResyncTracker(live.status.get());
    const stopWatching = live.status.subscribe(() => {
      if (resync(live.status.get())) {
        push();
      }
    });
    return () => {
      closed = true;
      stopWatching();
      window.clearTimeout(timer);
      window.clearTimeout(accepted);
      for (const dispose of disposers) {
        dispose();
      }
    };
  }, [key, live, attempt]);

  useEffect(() => {
    if (failures === 0) {
      return;
    }
    const poll = window.setInterval(() => callback.current([]), POLL_MS);
    const retry = window.setTimeout(() => setAttempt((value) => value + 1), retryDelay(failures));
    return () => {
      window.clearInterval(poll);
      window.clearTimeout(retry);
    };
  }, [failures]);

  return failures > 0 ? "polling" : "stream";
}
