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

/**
 * Close codes after which graphql-ws gives up instead of retrying (its own rule): protocol
 * errors and the 1xxx codes other than the transient ones. The app then opens a new socket.
 */
export function isTerminalClose(code: number): boolean {
  const transient = [1000, 1001, 1005, 1006, 1012, 1013, 1014];
  const fatal = [4500, 4005, 4400, 4004, 4401, 4406, 4409, 4429];
  return (code >= 1000 && code < 2000 && !transient.includes(code)) || fatal.includes(code);
}
