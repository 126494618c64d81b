/**
 * The live connection's state for the header's indicator, from graphql-ws's client events:
 * connecting until the server acknowledges, live once it has, offline when the socket closes
 * (the client then retries, and the next attempt shows as connecting again).
 */

export type ConnectionStatus = "connecting" | "live" | "offline";

export type SocketEvent = "connecting" | "opened" | "connected" | "closed" | "error";

export function nextStatus(current: ConnectionStatus, event: SocketEvent): ConnectionStatus {
  switch (event) {
    case "connecting":
    case "opened":
      return "connecting";
    case "connected":
      return "live";
    case "closed":
      return "offline";
    case "error":
      // An error is always followed by "closed"; until then nothing has changed.
      return current;
  }
}

export interface StatusStore {
  get(): ConnectionStatus;
  subscribe(listener: () => void): () => void;
  apply(event: SocketEvent): void;
}

/** A tiny external store, read with React's useSyncExternalStore. */
export function createStatusStore(initial: ConnectionStatus = "connecting"): StatusStore {
  let status = initial;
  const listeners = new Set<() => void>();
  return {
    get: () => status,
    subscribe(listener) {
      listeners.add(listener);
      return () => {
        listeners.delete(listener);
      };
    },
    apply(event) {
      const next = nextStatus(status, event);
      if (next !== status) {
        status = next;
        for (const listener of listeners) {
          listener();
        }
      }
    },
  };
}
