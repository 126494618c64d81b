/**
 * The state a domain subscription (`listingBoard`, `offers`, `settlements`, `order`, `device`)
 * builds up: the SNAPSHOT replaces the list, ADDED and CHANGED put each entity in (in its place
 * when the view has an order), REMOVED takes the ids out. A snapshot belongs to the variables it
 * was asked with (`key`): a change that arrives for other variables (from a subscription the
 * view has just left) is ignored, and until the new snapshot comes the old list stays shown.
 */

import type { LiveUpdateKind } from "../gql/graphql";
import { streamErrorOf } from "./liveEvents";

export interface LiveListUpdate<T> {
  readonly kind: LiveUpdateKind;
  readonly items: readonly T[];
  readonly removedIds?: readonly string[];
  readonly cursor?: string | null;
  /** SNAPSHOT only. */
  readonly totalCount?: number | null;
  /** SNAPSHOT only. */
  readonly hasMore?: boolean;
}

export interface LiveList<T> {
  /** The variables the snapshot was asked with. */
  readonly key: string;
  readonly items: readonly T[];
  /** How many match: exact while everything is shown, else the snapshot's count kept current. */
  readonly totalCount: number;
  readonly hasMore: boolean;
  readonly cursor: string | null;
}

/** Orders a view's rows (negative: `a` first); without one, new entities go to the top. */
export type Compare<T> = (a: T, b: T) => number;

function insertSorted<T>(items: T[], item: T, compare: Compare<T> | undefined): void {
  if (!compare) {
    items.unshift(item);
    return;
  }
  const index = items.findIndex((other) => compare(item, other) < 0);
  if (index < 0) {
    items.push(item);
  } else {
    items.splice(index, 0, item);
  }
}

export function applyListUpdate<T extends { readonly id: string }>(
  state: LiveList<T> | null,
  key: string,
  update: LiveListUpdate<T>,
  compare?: Compare<T>,
): LiveList<T> | null {
  if (update.kind === "SNAPSHOT") {
    const items = compare ? [...update.items].sort(compare) : [...update.items];
    const hasMore = update.hasMore ?? false;
    return {
      key,
      items,
      hasMore,
      totalCount: hasMore
        ? Math.max(update.totalCount ?? items.length, items.length)
        : items.length,
      cursor: update.cursor ?? null,
    };
  }
  if (state === null || state.key !== key) {
    return state; // a change before the snapshot, or for variables the view left
  }
  const items = [...state.items];
  let total = state.totalCount;
  if (update.kind === "REMOVED") {
    const gone = new Set(update.removedIds ?? []);
    const kept = items.filter((item) => !gone.has(item.id));
    total -= items.length - kept.length;
    return next(state, kept, total, update);
  }
  for (const item of update.items) {
    const index = items.findIndex((other) => other.id === item.id);
    if (index >= 0 && !compare) {
      items[index] = item; // changed in place
      continue;
    }
    if (index >= 0) {
      items.splice(index, 1);
    } else {
      total += 1;
    }
    insertSorted(items, item, compare);
  }
  return next(state, items, total, update);
}

function next<T>(
  state: LiveList<T>,
  items: readonly T[],
  total: number,
  update: LiveListUpdate<T>,
): LiveList<T> {
  return {
    ...state,
    items,
    totalCount: state.hasMore ? Math.max(total, items.length) : items.length,
    cursor: update.cursor ?? state.cursor,
  };
}

/** A query's first page (what a view polls while the stream is unavailable) as a snapshot. */
export function snapshotFromPage<T>(page: {
  readonly totalCount: number;
  readonly edges: readonly { readonly node: T }[];
}): LiveListUpdate<T> {
  const items = page.edges.map((edge) => edge.node);
  return {
    kind: "SNAPSHOT",
    items,
    totalCount: page.totalCount,
    hasMore: items.length < page.totalCount,
  };
}

/** One entity's subscription (`order`, `device`): every update is its whole state. */
export interface LiveEntity<T> {
  readonly key: string;
  readonly value: T;
  readonly cursor: string | null;
}

export function applyEntityUpdate<T>(
  state: LiveEntity<T> | null,
  key: string,
  update: { readonly kind: LiveUpdateKind; readonly value: T; readonly cursor?: string | null },
): LiveEntity<T> | null {
  if (update.kind !== "SNAPSHOT" && (state === null || state.key !== key)) {
    return state;
  }
  return { key, value: update.value, cursor: update.cursor ?? null };
}

/**
 * What a failed domain subscription calls for. LAGGED: subscribe again at once (the new
 * snapshot is the catch-up). A refusal about the request itself (not found, not allowed, bad
 * input): stop and show what the query says. Anything else (a server without the subscription,
 * a failure on its side): poll with the query and try the stream again later.
 */
export type LiveFailure = "resubscribe" | "refused" | "fallback";

const REFUSALS = new Set(["NOT_FOUND", "FORBIDDEN", "INVALID_INPUT", "UNAUTHENTICATED"]);

export function failureAction(error: unknown): LiveFailure {
  const { code } = streamErrorOf(error);
  if (code === "LAGGED") {
    return "resubscribe";
  }
  return code !== null && REFUSALS.has(code) ? "refused" : "fallback";
}
