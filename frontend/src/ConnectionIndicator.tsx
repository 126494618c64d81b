import { useSyncExternalStore } from "react";

import type { ConnectionStatus, StatusStore } from "./api/status";

const TEXT: Record<ConnectionStatus, { label: string; title: string }> = {
  connecting: { label: "Connecting…", title: "Opening the live connection to the server." },
  live: { label: "Live", title: "Changes reach this page as they happen." },
  offline: { label: "Offline", title: "No live connection: retrying. What you see may be stale." },
};

export function ConnectionIndicator({ status }: { status: StatusStore }) {
  const current = useSyncExternalStore(status.subscribe, status.get);
  const text = TEXT[current];
  return (
    <p
      className={`connection connection--${current}`}
      data-status={current}
      role="status"
      title={text.title}
    >
      <span className="connection__dot" aria-hidden="true" />
      <span className="visually-hidden">Live updates: </span>
      {text.label}
    </p>
  );
}
