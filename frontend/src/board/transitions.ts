/**
 * How the board changes between two fetches, so the change can be seen: new listings are
 * marked, listings that left stay a moment in their old place (marked leaving, with why), and
 * a new price or grade is highlighted with the old value beside it.
 */

export interface BoardEntry {
  readonly id: string;
  readonly priceMinor: string;
  readonly grade: string | null;
}

export interface BoardDiff {
  readonly added: readonly string[];
  /** Ids that left, with where they were in the previous list. */
  readonly removed: readonly { readonly id: string; readonly index: number }[];
  /** id -> previous price in minor units. */
  readonly priceChanged: ReadonlyMap<string, string>;
  /** id -> previous cosmetic grade. */
  readonly gradeChanged: ReadonlyMap<string, string | null>;
}

export const NO_DIFF: BoardDiff = {
  added: [],
  removed: [],
  priceChanged: new Map(),
  gradeChanged: new Map(),
};

/** Null `previous` is the first fetch (or other filters): nothing to show as a change. */
export function diffBoard(
  previous: readonly BoardEntry[] | null,
  next: readonly BoardEntry[],
): BoardDiff {
  if (previous === null) {
    return NO_DIFF;
  }
  const before = new Map(previous.map((entry, index) => [entry.id, { entry, index }]));
  const nextIds = new Set(next.map((entry) => entry.id));
  const added: string[] = [];
  const priceChanged = new Map<string, string>();
  const gradeChanged = new Map<string, string | null>();
  for (const entry of next) {
    const old = before.get(entry.id)?.entry;
    if (!old) {
      added.push(entry.id);
      continue;
    }
    if (old.priceMinor !== entry.priceMinor) {
      priceChanged.set(entry.id, old.priceMinor);
    }
    if (old.grade !== entry.grade) {
      gradeChanged.set(entry.id, old.grade);
    }
  }
  const removed = previous
    .map((entry, index) => ({ id: entry.id, index }))
    .filter(({ id }) => !nextIds.has(id));
  return { added, removed, priceChanged, gradeChanged };
}

export interface Placed<T> {
  readonly row: T;
  readonly leaving: boolean;
}

/**
 * The rows to show: the current ones (marked leaving when their id is among the leaving: the
 * stream said so before the next fetch), and the leaving ones the current list no longer has,
 * put back where they were (their old index, clamped to the list).
 */
export function withLeaving<T extends { readonly id: string }>(
  current: readonly T[],
  leaving: readonly { readonly row: T; readonly index: number }[],
): Placed<T>[] {
  const leavingIds = new Set(leaving.map((item) => item.row.id));
  const present = new Set(current.map((row) => row.id));
  const placed: Placed<T>[] = current.map((row) => ({ row, leaving: leavingIds.has(row.id) }));
  const gone = leaving
    .filter((item) => !present.has(item.row.id))
    .sort((a, b) => a.index - b.index);
  for (const item of gone) {
    const index = Math.min(Math.max(item.index, 0), placed.length);
    placed.splice(index, 0, { row: item.row, leaving: true });
  }
  return placed;
}
