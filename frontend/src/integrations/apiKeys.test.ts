import { describe, expect, it } from "vitest";

import { draftProblem, keyPreview, knownOrganisations, scopesLabel, toggleScope } from "./apiKeys";

describe("toggleScope", () => {
  it("adds and removes, keeping the order READ, WRITE, SUBSCRIBE", () => {
    expect(toggleScope(["SUBSCRIBE"], "READ", true)).toEqual(["READ", "SUBSCRIBE"]);
    expect(toggleScope(["READ", "WRITE"], "READ", false)).toEqual(["WRITE"]);
    expect(toggleScope(["READ"], "READ", true)).toEqual(["READ"]);
  });
});

describe("draftProblem", () => {
  const draft = {
    name: "ERP",
    organizationId: "T3JnOjE=",
    scopes: ["READ" as const],
  };

  it("accepts a complete draft", () => {
    expect(draftProblem(draft)).toBeNull();
  });

  it("names the first missing input", () => {
    expect(draftProblem({ ...draft, name: "  " })?.field).toBe("name");
    expect(draftProblem({ ...draft, organizationId: "" })?.field).toBe("organizationId");
    expect(draftProblem({ ...draft, scopes: [] })).toEqual({
      field: "scopes",
      text: "Choose at least one scope.",
    });
  });
});

describe("labels", () => {
  it("shows how a key starts and its scopes", () => {
    expect(keyPreview("0a1b2c3d4e5f")).toBe("dgk_0a1b2c3d4e5f_…");
    expect(scopesLabel(["READ", "WRITE"])).toBe("READ, WRITE");
    expect(scopesLabel([])).toBe("—");
  });
});

describe("knownOrganisations", () => {
  it("lists each organisation once, by name", () => {
    expect(
      knownOrganisations(
        [{ id: "2", name: "Northwind" }, null],
        [{ id: "1", name: "Acme" }, { id: "2", name: "Northwind" }, undefined],
      ),
    ).toEqual([
      { id: "1", name: "Acme" },
      { id: "2", name: "Northwind" },
    ]);
  });
});
