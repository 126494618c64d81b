import { describe, expect, it } from "vitest";

import { NO_CHANGES, listChanges, signatures } from "./highlight";

describe("listChanges", () => {
  const rows = [
    { id: "a", version: 1 },
    { id: "b", version: 1 },
  ];
  const map = (items: typeof rows) =>
    signatures(
      items,
      (row) => row.id,
      (row) => String(row.version),
    );

  it("marks nothing on the first fetch", () => {
    expect(listChanges(null, map(rows))).toBe(NO_CHANGES);
  });

  it("finds the rows added, changed and removed", () => {
    const next = [
      { id: "b", version: 2 },
      { id: "c", version: 1 },
    ];
    expect(listChanges(map(rows), map(next))).toEqual({
      added: ["c"],
      changed: ["b"],
      removed: ["a"],
    });
  });
});
