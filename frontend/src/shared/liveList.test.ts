import { describe, expect, it } from "vitest";

import {
  type LiveList,
  type LiveListUpdate,
  applyEntityUpdate,
  applyListUpdate,
  failureAction,
  snapshotFromPage,
} from "./liveList";

interface Row {
  readonly id: string;
  readonly value: number;
}

const A = "filter-a";
const B = "filter-b";

function snapshot(items: Row[], extra: Partial<LiveListUpdate<Row>> = {}): LiveListUpdate<Row> {
  return { kind: "SNAPSHOT", items, cursor: "c0", ...extra };
}

function ids(state: LiveList<Row> | null): string[] {
  return state?.items.map((row) => row.id) ?? [];
}

const byValue = (a: Row, b: Row) => a.value - b.value;

describe("applyListUpdate", () => {
  const start = applyListUpdate<Row>(
    null,
    A,
    snapshot([
      { id: "3", value: 30 },
      { id: "2", value: 20 },
      { id: "1", value: 10 },
    ]),
  );

  it("takes the snapshot as the list", () => {
    expect(ids(start)).toEqual(["3", "2", "1"]);
    expect(start?.totalCount).toBe(3);
    expect(start?.cursor).toBe("c0");
    expect(start?.key).toBe(A);
  });

  it("puts an added entity on top, or in its place in an order", () => {
    const added = applyListUpdate(start, A, {
      kind: "ADDED",
      items: [{ id: "4", value: 15 }],
      cursor: "c1",
    });
    expect(ids(added)).toEqual(["4", "3", "2", "1"]);
    expect(added?.totalCount).toBe(4);
    expect(added?.cursor).toBe("c1");
    const sorted = applyListUpdate(
      applyListUpdate<Row>(null, A, snapshot([...(start?.items ?? [])]), byValue),
      A,
      { kind: "ADDED", items: [{ id: "4", value: 15 }] },
      byValue,
    );
    expect(ids(sorted)).toEqual(["1", "4", "2", "3"]);
  });

  it("replaces a changed entity where it is", () => {
    const changed = applyListUpdate(start, A, {
      kind: "CHANGED",
      items: [{ id: "2", value: 99 }],
    });
    expect(changed?.items).toEqual([
      { id: "3", value: 30 },
      { id: "2", value: 99 },
      { id: "1", value: 10 },
    ]);
    expect(changed?.totalCount).toBe(3);
  });

  it("moves a changed entity to its new place in an order, without counting it twice", () => {
    const sorted = applyListUpdate<Row>(null, A, snapshot([...(start?.items ?? [])]), byValue);
    const changed = applyListUpdate(
      sorted,
      A,
      { kind: "CHANGED", items: [{ id: "1", value: 25 }] },
      byValue,
    );
    expect(ids(changed)).toEqual(["2", "1", "3"]);
    expect(changed?.totalCount).toBe(3);
  });

  it("an ADDED for an entity already shown replaces it", () => {
    const again = applyListUpdate(start, A, {
      kind: "ADDED",
      items: [{ id: "3", value: 31 }],
    });
    expect(ids(again)).toEqual(["3", "2", "1"]);
    expect(again?.items[0]?.value).toBe(31);
  });

  it("takes removed ids out and ignores ids it never showed", () => {
    const removed = applyListUpdate(start, A, {
      kind: "REMOVED",
      items: [],
      removedIds: ["2", "404"],
      cursor: "c2",
    });
    expect(ids(removed)).toEqual(["3", "1"]);
    expect(removed?.totalCount).toBe(2);
    expect(removed?.cursor).toBe("c2");
  });

  it("keeps the snapshot's count when more match than it holds", () => {
    const page = applyListUpdate<Row>(
      null,
      A,
      snapshot([{ id: "9", value: 1 }], {
        totalCount: 40,
        hasMore: true,
      }),
    );
    expect(page?.totalCount).toBe(40);
    const removed = applyListUpdate(page, A, {
      kind: "REMOVED",
      items: [],
      removedIds: ["9"],
    });
    expect(removed?.totalCount).toBe(39);
    const added = applyListUpdate(removed, A, {
      kind: "ADDED",
      items: [{ id: "7", value: 2 }],
    });
    expect(added?.totalCount).toBe(40);
  });

  it("ignores a change before the first snapshot", () => {
    expect(
      applyListUpdate<Row>(null, A, {
        kind: "ADDED",
        items: [{ id: "1", value: 1 }],
      }),
    ).toBe(null);
  });

  it("on another filter, keeps the old list until the new snapshot and ignores the old stream", () => {
    // The view now asks with B; a change from A's subscription still arrives.
    const late = applyListUpdate(start, B, {
      kind: "ADDED",
      items: [{ id: "5", value: 5 }],
    });
    expect(late).toBe(start);
    const fresh = applyListUpdate(start, B, snapshot([{ id: "8", value: 8 }]));
    expect(ids(fresh)).toEqual(["8"]);
    expect(fresh?.key).toBe(B);
    // A's stream, once more: not for this list.
    expect(
      applyListUpdate(fresh, A, {
        kind: "REMOVED",
        items: [],
        removedIds: ["8"],
      }),
    ).toBe(fresh);
  });

  it("after LAGGED or a reconnection, the fresh snapshot replaces whatever was shown", () => {
    const drifted = applyListUpdate(start, A, {
      kind: "ADDED",
      items: [{ id: "4", value: 4 }],
    });
    const resnapshot = applyListUpdate(
      drifted,
      A,
      snapshot(
        [
          { id: "5", value: 5 },
          { id: "3", value: 30 },
        ],
        { cursor: "c9" },
      ),
    );
    expect(ids(resnapshot)).toEqual(["5", "3"]);
    expect(resnapshot?.totalCount).toBe(2);
    expect(resnapshot?.cursor).toBe("c9");
  });
});

describe("snapshotFromPage", () => {
  it("turns a query's page into a snapshot that knows whether more match", () => {
    const page = { totalCount: 3, edges: [{ node: { id: "1", value: 1 } }] };
    expect(snapshotFromPage(page)).toEqual({
      kind: "SNAPSHOT",
      items: [{ id: "1", value: 1 }],
      totalCount: 3,
      hasMore: true,
    });
    expect(snapshotFromPage({ totalCount: 0, edges: [] }).hasMore).toBe(false);
  });
});

describe("applyEntityUpdate", () => {
  it("takes each state of the entity, for the id asked", () => {
    const first = applyEntityUpdate<string>(null, "o1", {
      kind: "SNAPSHOT",
      value: "PENDING",
    });
    expect(first?.value).toBe("PENDING");
    const shipped = applyEntityUpdate(first, "o1", {
      kind: "CHANGED",
      value: "SHIPPED",
      cursor: "c3",
    });
    expect(shipped).toEqual({ key: "o1", value: "SHIPPED", cursor: "c3" });
    expect(applyEntityUpdate(shipped, "o2", { kind: "CHANGED", value: "X" })).toBe(shipped);
    expect(applyEntityUpdate<string>(null, "o1", { kind: "CHANGED", value: "X" })).toBe(null);
  });
});

describe("failureAction", () => {
  it("subscribes again after LAGGED", () => {
    expect(
      failureAction([{ message: "behind", extensions: { code: "LAGGED", cursor: "c" } }]),
    ).toBe("resubscribe");
  });

  it("stops on a refusal of the request itself", () => {
    expect(failureAction([{ message: "no", extensions: { code: "NOT_FOUND" } }])).toBe("refused");
    expect(failureAction([{ message: "no", extensions: { code: "FORBIDDEN" } }])).toBe("refused");
  });

  it("falls back to polling on anything else", () => {
    expect(failureAction([{ message: "Cannot query field 'order' on type 'Subscription'." }])).toBe(
      "fallback",
    );
    expect(failureAction(new Event("close"))).toBe("fallback");
  });
});
