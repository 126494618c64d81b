/**
 * The change stream's events as the views use them: what a view subscribes to, which entity
 * an event is about, and when a dropped connection calls for fetching everything again.
 */

import type { ConnectionStatus } from "../api/status";

export interface LiveEvent {
  readonly cursor: string;
  readonly type: string;
  readonly entityType: string;
  readonly entityId: string;
  readonly entityVersion: number;
  readonly occurredAt: string;
  readonly actor: string | null;
  readonly changes: Readonly<Record<string, unknown>>;
}

/** What a view listens to: event types, or one entity type (optionally one entity). */
export interface LiveTopic {
  readonly types?: readonly string[];
  readonly entityType?: string;
  readonly entityId?: string;
}

export interface LiveVariables {
  readonly types: string[] | null;
  readonly entityType: string | null;
  readonly entityId: string | null;
  readonly after: string | null;
}

export function variablesFor(topic: LiveTopic, after: string | null = null): LiveVariables {
  return {
    types: topic.types ? [...topic.types] : null,
    entityType: topic.entityType ?? null,
    entityId: topic.entityId ?? null,
    after,
  };
}

/** The event as the views want it: `changes` an object even when the server sent something odd. */
export function asLiveEvent(raw: {
  cursor: string;
  type: string;
  entityType: string;
  entityId: string;
  entityVersion: number;
  occurredAt: string;
  actor?: string | null;
  changes: unknown;
}): LiveEvent {
  const changes =
    typeof raw.changes === "object" && raw.changes !== null && !Array.isArray(raw.changes)
      ? (raw.changes as Record<string, unknown>)
      : {};
  return {
    cursor: raw.cursor,
    type: raw.type,
    entityType: raw.entityType,
    entityId: raw.entityId,
    entityVersion: raw.entityVersion,
    occurredAt: raw.occurredAt,
    actor: raw.actor ?? null,
    changes,
  };
}

/** A relay global id ("TGlzdGluZzo1" is base64 of "Listing:5") as its type and row id. */
export function decodeGlobalId(id: string): { type: string; id: string } | null {
  try {
    const text = atob(id);
    const colon = text.indexOf(":");
    if (colon <= 0) {
      return null;
    }
    return { type: text.slice(0, colon), id: text.slice(colon + 1) };
  } catch {
    return null;
  }
}

export function globalId(type: string, id: string | number): string {
  return btoa(`${type}:${id}`);
}

/** The new status an event reports, if it reports one. */
export function changedStatus(event: LiveEvent): string | null {
  const status = event.changes["status"];
  return typeof status === "string" ? status : null;
}

/**
 * Follows the connection to say when to fetch everything again: each time it is live after
 * having dropped (what changed meanwhile was never sent), not on the first connection.
 */
export function createResyncTracker(initial: ConnectionStatus) {
  let everLive = initial === "live";
  let dropped = false;
  return (status: ConnectionStatus): boolean => {
    if (status !== "live") {
      dropped = dropped || everLive;
      return false;
    }
    everLive = true;
    if (dropped) {
      dropped = false;
      return true;
    }
    return false;
  };
}

/** The code of a subscription's error: LAGGED asks to resume from `cursor`. */
export function streamErrorOf(error: unknown): { code: string | null; cursor: string | null } {
  const first = Array.isArray(error) ? error[0] : error;
  if (typeof first === "object" && first !== null && "extensions" in first) {
    const extensions = (first as { extensions?: Record<string, unknown> }).extensions ?? {};
    const code = typeof extensions["code"] === "string" ? extensions["code"] : null;
    const cursor = typeof extensions["cursor"] === "string" ? extensions["cursor"] : null;
    return { code, cursor };
  }
  return { code: null, cursor: null };
}
