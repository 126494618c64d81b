import { describe, expect, it } from "vitest";

import {
  NO_FILTERS,
  activeFilterCount,
  filtersFromSearch,
  searchFromFilters,
  toListingFilter,
} from "./filters";

describe("board filters in the address", () => {
  it("round-trips, leaving out what is not set", () => {
    const filters = {
      ...NO_FILTERS,
      make: "Apple",
      grades: ["B", "A"] as const,
      priceMax: "500",
      sort: "PRICE_ASC" as const,
    };
    const search = searchFromFilters({ ...filters, grades: [...filters.grades] });
    expect(search).toBe("?make=Apple&priceMax=500&grade=A%2CB&sort=PRICE_ASC");
    expect(filtersFromSearch(search)).toEqual({ ...filters, grades: ["A", "B"] });
    expect(searchFromFilters(NO_FILTERS)).toBe("");
  });

  it("ignores what it does not know", () => {
    expect(filtersFromSearch("?grade=A,Z&sort=CHEAPEST")).toEqual({
      ...NO_FILTERS,
      grades: ["A"],
    });
  });
});

describe("toListingFilter", () => {
  it("sends prices as minor units and grades in order", () => {
    expect(
      toListingFilter({
        ...NO_FILTERS,
        text: " pixel ",
        storageGb: "128",
        grades: ["C", "A"],
        priceMin: "99.5",
        priceMax: "1,000",
      }),
    ).toEqual({
      filter: {
        text: "pixel",
        storageGb: 128,
        grade: ["A", "C"],
        priceMin: "9950",
        priceMax: "100000",
      },
      problems: {},
    });
    expect(toListingFilter(NO_FILTERS)).toEqual({ filter: null, problems: {} });
  });

  it("names what does not parse and leaves it out", () => {
    const { filter, problems } = toListingFilter({
      ...NO_FILTERS,
      make: "Apple",
      priceMin: "abc",
      priceMax: "10",
      storageGb: "lots",
    });
    expect(filter).toEqual({ make: "Apple", priceMax: "1000" });
    expect(problems.priceMin).toBe("Enter an amount in figures, such as 450 or 450.50.");
    expect(problems.storageGb).toBe("Storage is a whole number of GB.");
  });

  it("refuses a range upside down", () => {
    const { filter, problems } = toListingFilter({
      ...NO_FILTERS,
      priceMin: "500",
      priceMax: "400",
    });
    expect(filter).toEqual({ priceMin: "50000" });
    expect(problems.priceMax).toBe("The highest price is below the lowest.");
  });

  it("counts active filters", () => {
    expect(activeFilterCount({ ...NO_FILTERS, make: "Apple", grades: ["A", "B"] })).toBe(2);
    expect(activeFilterCount({ ...NO_FILTERS, sort: "PRICE_DESC" })).toBe(0);
  });
});
