/**
 * The board from `listingBoard`: its updates as list updates, the order the chosen sort puts
 * the listings in (the server sends the newest first; it has no other order), and the key of
 * a subscription (the filter and the page size: another filter is another subscription).
 */

import type { ListingFilter, ListingSort, LiveUpdateKind } from "../gql/graphql";
import { decodeGlobalId } from "../shared/liveEvents";
import type { Compare, LiveListUpdate } from "../shared/liveList";
import { compareMinor } from "../shared/money";

export interface SortableListing {
  readonly id: string;
  readonly price: { readonly amountMinor: string };
}

/** The row id inside a global id ("TGlzdGluZzo1" is "Listing:5"): the order listings came in. */
export function rowNumber(id: string): number {
  const decoded = decodeGlobalId(id);
  const value = decoded ? Number(decoded.id) : Number.NaN;
  return Number.isFinite(value) ? value : 0;
}

/** The server's order for each sort: newest = highest id first; by price, then by id. */
export function compareListings(sort: ListingSort): Compare<SortableListing> {
  const newest = (a: SortableListing, b: SortableListing) => rowNumber(b.id) - rowNumber(a.id);
  if (sort === "NEWEST") {
    return newest;
  }
  const direction = sort === "PRICE_ASC" ? 1 : -1;
  return (a, b) =>
    direction * compareMinor(a.price.amountMinor, b.price.amountMinor) ||
    direction * (rowNumber(a.id) - rowNumber(b.id));
}

export interface BoardVariables {
  readonly filter: ListingFilter | null;
  readonly first: number;
}

export function boardVariables(filter: ListingFilter | null, first: number): BoardVariables {
  return { filter, first };
}

interface ListingBoardUpdateData<T> {
  readonly kind: LiveUpdateKind;
  readonly listings: readonly T[];
  readonly removedIds: readonly string[];
  readonly cursor: string;
  readonly totalCount?: number | null;
  readonly hasMore: boolean;
}

export function fromListingBoard<T>(update: ListingBoardUpdateData<T>): LiveListUpdate<T> {
  return {
    kind: update.kind,
    items: update.listings,
    removedIds: update.removedIds,
    cursor: update.cursor,
    totalCount: update.totalCount ?? null,
    hasMore: update.hasMore,
  };
}
