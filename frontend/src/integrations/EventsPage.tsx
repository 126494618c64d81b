import { type FormEvent, useEffect, useId, useReducer, useRef, useState } from "react";

import type { LiveEventsSubscription as LiveEventsResult } from "../gql/graphql";
import { formatTime } from "../shared/dates";
import { LIVE_EVENTS_QUERY, useConnectionStatus, useLiveConnection } from "../shared/live";
import { type LiveTopic, asLiveEvent, streamErrorOf, variablesFor } from "../shared/liveEvents";
import { asSentence } from "../shared/text";
import { PageTitle } from "../shared/ui";
import { ApiKeysSection } from "./ApiKeysSection";
import { EMPTY_STREAM, formatLag, lagSummary, parseTypes, streamReducer } from "./stream";

interface StreamFilter {
  readonly topic: LiveTopic;
  readonly after: string | null;
}

/**
 * The live event log as partners receive it: every event once, in order, with its cursor and
 * how long it took to arrive. After a dropped connection it resumes from the last cursor, so
 * nothing is missed and nothing is shown twice.
 */
export function EventsPage() {
  const id = useId();
  const live = useLiveConnection();
  const status = useConnectionStatus();
  const [filter, setFilter] = useState<StreamFilter>({ topic: {}, after: null });
  const [state, dispatch] = useReducer(streamReducer, EMPTY_STREAM);
  const cursor = useRef<string | null>(null);
  const [typesText, setTypesText] = useState("");
  const [entityType, setEntityType] = useState("");
  const [afterText, setAfterText] = useState("");

  useEffect(() => {
    cursor.current = filter.after;
    dispatch({ type: "reset", after: filter.after });
    let dispose: (() => void) | null = null;
    let stopped = false;

    const start = (resuming: boolean) => {
      dispose?.();
      const after = cursor.current;
      if (resuming) {
        dispatch({ type: "resumed", after });
      }
      dispose = live.socket.subscribe<LiveEventsResult>(
        { query: LIVE_EVENTS_QUERY, variables: { ...variablesFor(filter.topic, after) } },
        {
          next: (result) => {
            if (result.errors?.length) {
              fail(result.errors);
            } else if (result.data?.events) {
              const event = asLiveEvent(result.data.events);
              cursor.current = event.cursor;
              dispatch({ type: "received", event, receivedAt: Date.now() });
            }
          },
          error: fail,
          complete: () => undefined,
        },
      );
    };
    const fail = (error: unknown) => {
      if (stopped) {
        return;
      }
      const { code, cursor: lastSent } = streamErrorOf(error);
      if (code === "LAGGED") {
        cursor.current = lastSent ?? cursor.current;
        start(true); // too far behind: resume from the last event we were sent
        return;
      }
      const first = Array.isArray(error) ? error[0] : error;
      const message =
        typeof first === "object" && first !== null && "message" in first
          ? String((first as { message: unknown }).message)
          : "The stream stopped.";
      dispose = null;
      dispatch({ type: "problem", text: asSentence(message) });
    };

    start(false);
    // graphql-ws would resend the first request (its old `after`) on reconnection: stop it
    // when the socket closes, and subscribe again after the last cursor once it is back.
    const offClosed = live.socket.on("closed", () => {
      dispose?.();
      dispose = null;
    });
    const offConnected = live.socket.on("connected", () => {
      if (dispose === null && !stopped) {
        start(true);
      }
    });
    return () => {
      stopped = true;
      offClosed();
      offConnected();
      dispose?.();
    };
  }, [live, filter]);

  function apply(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const types = parseTypes(typesText);
    setFilter({
      topic: {
        ...(types ? { types } : {}),
        ...(entityType.trim() ? { entityType: entityType.trim() } : {}),
      },
      after: afterText.trim() || null,
    });
  }

  const lag = lagSummary(state.items);
  return (
    <div className="page">
      <PageTitle>Integrations</PageTitle>
      <section className="card" aria-labelledby={`${id}-stream`}>
        <div className="toolbar">
          <h2 id={`${id}-stream`}>Event stream</h2>
          <p className="muted small" data-testid="stream-state">
            {status === "live" ? "Streaming" : "Waiting for the connection"} · {state.total}{" "}
            received
            {state.resumes > 0
              ? ` · resumed from the last cursor ${state.resumes === 1 ? "once" : `${state.resumes} times`}`
              : ""}
          </p>
        </div>
        <dl className="stats">
          <div>
            <dt>Cursor</dt>
            <dd className="mono" data-testid="stream-cursor">
              {state.cursor ?? "— (live from now)"}
            </dd>
          </div>
          <div>
            <dt>Lag, last event</dt>
            <dd data-testid="stream-lag">{formatLag(lag.last)}</dd>
          </div>
          <div>
            <dt>Median of last 50</dt>
            <dd>{formatLag(lag.median)}</dd>
          </div>
          <div>
            <dt>Slowest of last 50</dt>
            <dd>{formatLag(lag.max)}</dd>
          </div>
        </dl>
        <form className="stream-filter" onSubmit={apply}>
          <div className="field">
            <label htmlFor={`${id}-types`}>Event types</label>
            <input
              id={`${id}-types`}
              value={typesText}
              placeholder="e.g. order.shipped, listing.price_changed"
              onChange={(event) => setTypesText(event.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-entity`}>Entity type</label>
            <input
              id={`${id}-entity`}
              value={entityType}
              placeholder="e.g. Listing"
              onChange={(event) => setEntityType(event.target.value)}
            />
          </div>
          <div className="field">
            <label htmlFor={`${id}-after`}>Start after cursor</label>
            <input
              id={`${id}-after`}
              className="mono"
              value={afterText}
              placeholder="empty: live from now"
              onChange={(event) => setAfterText(event.target.value)}
            />
          </div>
          <div className="field field--end">
            <button type="submit" className="button">
              Apply
            </button>
          </div>
        </form>
        {state.problem ? (
          <p className="notice notice--error" role="alert">
            {state.problem}
          </p>
        ) : null}
        {state.items.length === 0 ? (
          <p className="muted">No event yet: changes appear here as they are committed.</p>
        ) : (
          <table className="table events">
            <thead>
              <tr>
                <th scope="col">Received</th>
                <th scope="col">Type</th>
                <th scope="col">Entity</th>
                <th scope="col">Changes</th>
                <th scope="col">Lag</th>
                <th scope="col">Cursor</th>
              </tr>
            </thead>
            <tbody>
              {state.items.map((item) => (
                <tr key={item.event.cursor} data-event-type={item.event.type}>
                  <td data-label="Received">
                    {formatTime(new Date(item.receivedAt).toISOString())}
                  </td>
                  <td data-label="Type" className="mono">
                    {item.event.type}
                  </td>
                  <td data-label="Entity">
                    {item.event.entityType} v{item.event.entityVersion}
                    {item.event.actor ? (
                      <span className="muted block small">{item.event.actor}</span>
                    ) : null}
                  </td>
                  <td data-label="Changes" className="mono small changes">
                    {JSON.stringify(item.event.changes)}
                  </td>
                  <td data-label="Lag">{formatLag(item.lagMs)}</td>
                  <td data-label="Cursor" className="mono small">
                    {item.event.cursor}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
      </section>
      <ApiKeysSection />
    </div>
  );
}
