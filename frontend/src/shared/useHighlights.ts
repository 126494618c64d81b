import { useEffect, useRef, useState } from "react";

import { listChanges, signatures } from "./highlight";

export const HIGHLIGHT_MS = 4_000;

/**
 * The keys of rows that appeared or changed since the previous fetch, for HIGHLIGHT_MS. A new
 * `scope` (other filters, another page) starts over without highlighting anything.
 */
export function useHighlights<T>(
  items: readonly T[] | null,
  key: (item: T) => string,
  signature: (item: T) => string,
  scope = "",
): ReadonlySet<string> {
  const previous = useRef<{ scope: string; map: Map<string, string> } | null>(null);
  const [highlighted, setHighlighted] = useState<ReadonlySet<string>>(new Set());
  const keyRef = useRef(key);
  const signatureRef = useRef(signature);
  keyRef.current = key;
  signatureRef.current = signature;
  const timers = useRef(new Set<number>());

  useEffect(() => {
    const pending = timers.current;
    return () => {
      for (const timer of pending) {
        window.clearTimeout(timer);
      }
    };
  }, []);

  useEffect(() => {
    if (items === null) {
      return;
    }
    const map = signatures(items, keyRef.current, signatureRef.current);
    const before = previous.current?.scope === scope ? previous.current.map : null;
    previous.current = { scope, map };
    const { added, changed } = listChanges(before, map);
    const fresh = [...added, ...changed];
    if (fresh.length === 0) {
      return;
    }
    setHighlighted((current) => new Set([...current, ...fresh]));
    const timer = window.setTimeout(() => {
      timers.current.delete(timer);
      setHighlighted((current) => new Set([...current].filter((item) => !fresh.includes(item))));
    }, HIGHLIGHT_MS);
    timers.current.add(timer);
  }, [items, scope]);

  return highlighted;
}
