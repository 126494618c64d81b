/**
 * The board's filters: what the form holds, how they sit in the address (so a reload or a link
 * keeps them), and the ListingFilter they send. Prices are typed in the currency's units and
 * sent as minor units.
 */

import type { CosmeticGrade, ListingFilter, ListingSort } from "../gql/graphql";
import { compareMinor, parseMoneyInput } from "../shared/money";

export const GRADES: readonly CosmeticGrade[] = ["A", "B", "C", "D"];
export const SORTS: readonly { value: ListingSort; label: string }[] = [
  { value: "NEWEST", label: "Newest first" },
  { value: "PRICE_ASC", label: "Price: low to high" },
  { value: "PRICE_DESC", label: "Price: high to low" },
];
export const STORAGES = [32, 64, 128, 256, 512, 1024] as const;

export interface BoardFilters {
  readonly text: string;
  readonly make: string;
  readonly model: string;
  readonly storageGb: string;
  readonly grades: readonly CosmeticGrade[];
  readonly priceMin: string;
  readonly priceMax: string;
  readonly sort: ListingSort;
}

export const NO_FILTERS: BoardFilters = {
  text: "",
  make: "",
  model: "",
  storageGb: "",
  grades: [],
  priceMin: "",
  priceMax: "",
  sort: "NEWEST",
};

const TEXT_KEYS = ["text", "make", "model", "storageGb", "priceMin", "priceMax"] as const;

function isGrade(value: string): value is CosmeticGrade {
  return (GRADES as readonly string[]).includes(value);
}

function isSort(value: string): value is ListingSort {
  return SORTS.some((sort) => sort.value === value);
}

export function filtersFromSearch(search: string): BoardFilters {
  const params = new URLSearchParams(search);
  const text = Object.fromEntries(TEXT_KEYS.map((key) => [key, params.get(key) ?? ""])) as Record<
    (typeof TEXT_KEYS)[number],
    string
  >;
  const grades = (params.get("grade") ?? "").split(",").filter(isGrade);
  const sort = params.get("sort") ?? "";
  return { ...text, grades, sort: isSort(sort) ? sort : "NEWEST" };
}

/** "?make=Apple&grade=A,B": only what differs from no filter, in a stable order. */
export function searchFromFilters(filters: BoardFilters): string {
  const params = new URLSearchParams();
  for (const key of TEXT_KEYS) {
    const value = filters[key].trim();
    if (value !== "") {
      params.set(key, value);
    }
  }
  if (filters.grades.length > 0) {
    params.set("grade", GRADES.filter((grade) => filters.grades.includes(grade)).join(","));
  }
  if (filters.sort !== "NEWEST") {
    params.set("sort", filters.sort);
  }
  const text = params.toString();
  return text === "" ? "" : `?${text}`;
}

export type FilterProblems = Partial<Record<"priceMin" | "priceMax" | "storageGb", string>>;

export interface BoardQueryInput {
  readonly filter: ListingFilter | null;
  readonly problems: FilterProblems;
}

/** The ListingFilter to send; a field that does not parse is left out and named in problems. */
export function toListingFilter(filters: BoardFilters, currency = "EUR"): BoardQueryInput {
  const filter: ListingFilter = {};
  const problems: FilterProblems = {};
  const text = filters.text.trim();
  if (text) {
    filter.text = text;
  }
  if (filters.make.trim()) {
    filter.make = filters.make.trim();
  }
  if (filters.model.trim()) {
    filter.model = filters.model.trim();
  }
  if (filters.storageGb.trim()) {
    const storage = Number(filters.storageGb.trim());
    if (Number.isInteger(storage) && storage > 0) {
      filter.storageGb = storage;
    } else {
      problems.storageGb = "Storage is a whole number of GB.";
    }
  }
  if (filters.grades.length > 0) {
    filter.grade = GRADES.filter((grade) => filters.grades.includes(grade));
  }
  for (const key of ["priceMin", "priceMax"] as const) {
    const parsed = parseMoneyInput(filters[key], currency);
    if (parsed.kind === "valid") {
      filter[key] = parsed.minor;
    } else if (parsed.kind === "invalid") {
      problems[key] = parsed.message;
    }
  }
  if (
    filter.priceMin != null &&
    filter.priceMax != null &&
    compareMinor(filter.priceMin, filter.priceMax) > 0
  ) {
    problems.priceMax = "The highest price is below the lowest.";
    delete filter.priceMax;
  }
  return { filter: Object.keys(filter).length > 0 ? filter : null, problems };
}

export function activeFilterCount(filters: BoardFilters): number {
  return (
    TEXT_KEYS.filter((key) => filters[key].trim() !== "").length +
    (filters.grades.length > 0 ? 1 : 0)
  );
}
