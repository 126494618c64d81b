import { useCallback, useEffect, useRef, useState } from "react";

import { type BoardEntry, type Placed, diffBoard, withLeaving } from "./transitions";

/** How long a listing that left stays on the board, marked, before it goes. */
export const LEAVE_MS = 1_800;
/** How long a new listing, price or grade stays highlighted. */
export const MARK_MS = 5_000;

interface Leaving<T> {
  readonly row: T;
  readonly index: number;
  readonly reason: string | null;
  readonly until: number;
}

export interface Mark {
  readonly kind: "new" | "changed";
  readonly previousPriceMinor: string | null;
  readonly previousGrade: string | null | undefined;
  readonly until: number;
}

export interface BoardTransitions<T> {
  readonly rows: readonly Placed<T>[];
  readonly marks: ReadonlyMap<string, Mark>;
  readonly reasons: ReadonlyMap<string, string | null>;
  /** What changed last, for a polite live region. */
  readonly announcement: string;
  /** Why a listing left (it is marked leaving now, or will be with the next rows). */
  explain(id: string, reason: string): void;
}

export function useBoardTransitions<T extends { readonly id: string }>(
  rows: readonly T[] | null,
  entry: (row: T) => BoardEntry,
  describe: (row: T) => string,
  scope: string,
): BoardTransitions<T> {
  const [leaving, setLeaving] = useState<ReadonlyMap<string, Leaving<T>>>(new Map());
  const [marks, setMarks] = useState<ReadonlyMap<string, Mark>>(new Map());
  const [announcement, setAnnouncement] = useState("");
  const leavingNow = useRef(leaving);
  leavingNow.current = leaving;
  // Reasons known before the rows without the listing arrive.
  const pendingReasons = useRef(new Map<string, string>());
  const previous = useRef<{ scope: string; rows: readonly T[] } | null>(null);
  const helpers = useRef({ entry, describe });
  helpers.current = { entry, describe };

  useEffect(() => {
    if (rows === null) {
      return;
    }
    const before = previous.current?.scope === scope ? previous.current.rows : null;
    previous.current = { scope, rows };
    if (before === null) {
      setLeaving(new Map());
      setMarks(new Map());
      return;
    }
    const { entry: toEntry, describe: name } = helpers.current;
    const diff = diffBoard(before.map(toEntry), rows.map(toEntry));
    const now = Date.now();
    if (diff.removed.length > 0) {
      setLeaving((current) => {
        const next = new Map(current);
        for (const { id, index } of diff.removed) {
          const row = before[index];
          const known = current.get(id);
          if (row) {
            next.set(id, {
              row,
              index,
              reason: known?.reason ?? pendingReasons.current.get(id) ?? null,
              until: known?.until ?? now + LEAVE_MS,
            });
          }
        }
        return next;
      });
      for (const { id } of diff.removed) {
        pendingReasons.current.delete(id);
      }
    }
    const changed = [...new Set([...diff.priceChanged.keys(), ...diff.gradeChanged.keys()])];
    if (diff.added.length > 0 || changed.length > 0) {
      setMarks((current) => {
        const next = new Map(current);
        for (const id of diff.added) {
          next.set(id, {
            kind: "new",
            previousPriceMinor: null,
            previousGrade: undefined,
            until: now + MARK_MS,
          });
        }
        for (const id of changed) {
          const earlier = current.get(id);
          next.set(id, {
            kind: earlier?.kind === "new" ? "new" : "changed",
            previousPriceMinor: diff.priceChanged.get(id) ?? earlier?.previousPriceMinor ?? null,
            previousGrade: diff.gradeChanged.has(id)
              ? diff.gradeChanged.get(id)
              : earlier?.previousGrade,
            until: now + MARK_MS,
          });
        }
        return next;
      });
    }
    const byId = new Map(rows.map((row) => [row.id, row]));
    const parts = [
      ...diff.added.map((id) => {
        const row = byId.get(id);
        return row ? `New on the board: ${name(row)}.` : "";
      }),
      ...changed.map((id) => {
        const row = byId.get(id);
        return row ? `Changed: ${name(row)}.` : "";
      }),
    ].filter(Boolean);
    if (parts.length > 0) {
      setAnnouncement(parts.join(" "));
    }
  }, [rows, scope]);

  // Forget what has been shown long enough.
  useEffect(() => {
    const times = [...leaving.values(), ...marks.values()].map((item) => item.until);
    if (times.length === 0) {
      return;
    }
    const wait = Math.max(0, Math.min(...times) - Date.now()) + 20;
    const timer = window.setTimeout(() => {
      const now = Date.now();
      setLeaving((current) => new Map([...current].filter(([, item]) => item.until > now)));
      setMarks((current) => new Map([...current].filter(([, item]) => item.until > now)));
    }, wait);
    return () => window.clearTimeout(timer);
  }, [leaving, marks]);

  const explain = useCallback((id: string, reason: string) => {
    const row = previous.current?.rows.find((item) => item.id === id);
    if (row) {
      pendingReasons.current.set(id, reason); // still shown: for when it goes
      return;
    }
    const gone = leavingNow.current.get(id);
    if (!gone) {
      return;
    }
    setLeaving((map) => {
      const item = map.get(id);
      if (!item) {
        return map;
      }
      const next = new Map(map);
      next.set(id, { ...item, reason });
      return next;
    });
    setAnnouncement(
      `No longer for sale (${reason.toLowerCase()}): ${helpers.current.describe(gone.row)}.`,
    );
  }, []);

  const placed = rows === null ? [] : withLeaving(rows, [...leaving.values()]);
  const reasons = new Map([...leaving].map(([id, item]) => [id, item.reason]));
  return { rows: placed, marks, reasons, announcement, explain };
}
