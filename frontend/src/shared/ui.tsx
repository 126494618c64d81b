/** Small pieces every view uses: badges, notices, money, the live mode line. */

import { type ReactNode, useEffect, useRef } from "react";

import { type AnyStatus, statusLabel, statusTone } from "./labels";
import type { LiveMode } from "./live";
import { type MoneyValue, formatMoney } from "./money";

export function StatusBadge({ status, label }: { status: AnyStatus; label?: string }) {
  return (
    <span className={`badge badge--${statusTone(status)}`} data-status={status}>
      {label ?? statusLabel(status)}
    </span>
  );
}

export function Money({ value, className }: { value: MoneyValue; className?: string }) {
  return <span className={className ? `money ${className}` : "money"}>{formatMoney(value)}</span>;
}

export type NoticeValue = { readonly kind: "ok" | "error"; readonly text: string } | null;

/** A result line under a form: a status for success, an alert for a refusal. */
export function Notice({ notice, id }: { notice: NoticeValue; id?: string }) {
  if (!notice) {
    return null;
  }
  return (
    <p
      id={id}
      className={notice.kind === "ok" ? "notice notice--ok" : "notice notice--error"}
      role={notice.kind === "ok" ? "status" : "alert"}
    >
      {notice.text}
    </p>
  );
}

export function PageTitle({ children, mode }: { children: ReactNode; mode?: LiveMode }) {
  return (
    <div className="page__title">
      <h1>{children}</h1>
      {mode === "polling" ? (
        <p className="muted live-mode" data-live-mode="polling">
          Live updates are unavailable: refreshing every few seconds.
        </p>
      ) : null}
    </div>
  );
}

export function LoadState({
  fetching,
  hasData,
  error,
  empty,
  emptyText,
}: {
  fetching: boolean;
  hasData: boolean;
  error: string | null;
  empty: boolean;
  emptyText: string;
}) {
  if (error) {
    return (
      <p className="notice notice--error" role="alert">
        {error}
      </p>
    );
  }
  if (fetching && !hasData) {
    return <p className="muted">Loading…</p>;
  }
  if (hasData && empty) {
    return <p className="muted">{emptyText}</p>;
  }
  return null;
}

/** A stable key for a request that may be retried (rule 8): one per intent, not per click. */
export function newIdempotencyKey(): string {
  if (typeof crypto !== "undefined" && typeof crypto.randomUUID === "function") {
    return crypto.randomUUID(); // secure contexts (https, localhost)
  }
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** Focus (and so scroll to) an element when it appears: a panel opened from a list. */
export function useFocusOnMount<T extends HTMLElement>() {
  const ref = useRef<T>(null);
  useEffect(() => {
    ref.current?.focus();
  }, []);
  return ref;
}
