/**
 * The integrations page's view of the change stream: the events received (newest first,
 * once each even when a resume sends some again), the cursor to resume from, and the lag.
 */

import type { LiveEvent } from "../shared/liveEvents";

export const KEEP = 200;
const LAG_WINDOW = 50;

export interface Received {
  readonly event: LiveEvent;
  readonly receivedAt: number;
  /** Milliseconds from the commit to this browser (clocks permitting). */
  readonly lagMs: number;
}

export interface StreamState {
  readonly items: readonly Received[];
  readonly seen: ReadonlySet<string>;
  readonly cursor: string | null;
  readonly total: number;
  readonly resumedFrom: string | null;
  readonly resumes: number;
  readonly problem: string | null;
}

export const EMPTY_STREAM: StreamState = {
  items: [],
  seen: new Set(),
  cursor: null,
  total: 0,
  resumedFrom: null,
  resumes: 0,
  problem: null,
};

export function lagOf(event: Pick<LiveEvent, "occurredAt">, receivedAt: number): number {
  const occurred = Date.parse(event.occurredAt);
  return Number.isNaN(occurred) ? 0 : Math.max(0, receivedAt - occurred);
}

export type StreamAction =
  | { readonly type: "received"; readonly event: LiveEvent; readonly receivedAt: number }
  | { readonly type: "resumed"; readonly after: string | null }
  | { readonly type: "problem"; readonly text: string }
  | { readonly type: "reset"; readonly after: string | null };

export function streamReducer(state: StreamState, action: StreamAction): StreamState {
  switch (action.type) {
    case "received": {
      if (state.seen.has(action.event.cursor)) {
        return state;
      }
      const item = {
        event: action.event,
        receivedAt: action.receivedAt,
        lagMs: lagOf(action.event, action.receivedAt),
      };
      const items = [item, ...state.items].slice(0, KEEP);
      const seen = new Set(items.map((kept) => kept.event.cursor));
      return {
        ...state,
        items,
        seen,
        cursor: action.event.cursor,
        total: state.total + 1,
        problem: null,
      };
    }
    case "resumed":
      return { ...state, resumedFrom: action.after, resumes: state.resumes + 1 };
    case "problem":
      return { ...state, problem: action.text };
    case "reset":
      return { ...EMPTY_STREAM, cursor: action.after };
  }
}

export interface LagSummary {
  readonly last: number | null;
  readonly median: number | null;
  readonly max: number | null;
}

/** The newest event's lag, and the median and worst of the last 50. */
export function lagSummary(items: readonly Received[]): LagSummary {
  const recent = items.slice(0, LAG_WINDOW).map((item) => item.lagMs);
  if (recent.length === 0) {
    return { last: null, median: null, max: null };
  }
  const sorted = [...recent].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median =
    sorted.length % 2 === 1
      ? (sorted[middle] ?? 0)
      : Math.round(((sorted[middle - 1] ?? 0) + (sorted[middle] ?? 0)) / 2);
  return { last: recent[0] ?? null, median, max: sorted[sorted.length - 1] ?? null };
}

export function formatLag(ms: number | null): string {
  if (ms === null) {
    return "—";
  }
  if (ms < 1000) {
    return `${ms} ms`;
  }
  if (ms < 60_000) {
    return `${(ms / 1000).toFixed(1)} s`;
  }
  return `${Math.round(ms / 60_000)} min`;
}

/** "device.received, order.*" -> the exact type names (the API matches names exactly). */
export function parseTypes(text: string): string[] | null {
  const types = text
    .split(/[\s,]+/)
    .map((type) => type.trim())
    .filter((type) => type !== "");
  return types.length > 0 ? types : null;
}
