/**
 * Which rows of a list changed between two fetches, to highlight them for a moment: rows are
 * compared by a key and a signature (say the version, or the fields shown).
 */

export interface ListChanges {
  readonly added: readonly string[];
  readonly changed: readonly string[];
  readonly removed: readonly string[];
}

export const NO_CHANGES: ListChanges = { added: [], changed: [], removed: [] };

/** Null `previous` is the first fetch: nothing is new then. */
export function listChanges(
  previous: ReadonlyMap<string, string> | null,
  next: ReadonlyMap<string, string>,
): ListChanges {
  if (previous === null) {
    return NO_CHANGES;
  }
  const added: string[] = [];
  const changed: string[] = [];
  for (const [key, signature] of next) {
    const before = previous.get(key);
    if (before === undefined) {
      added.push(key);
    } else if (before !== signature) {
      changed.push(key);
    }
  }
  const removed = [...previous.keys()].filter((key) => !next.has(key));
  return { added, changed, removed };
}

export function signatures<T>(
  items: readonly T[],
  key: (item: T) => string,
  signature: (item: T) => string,
): Map<string, string> {
  return new Map(items.map((item) => [key(item), signature(item)]));
}
