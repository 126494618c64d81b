/** What sales may do with a listing in each status (LISTING_TRANSITIONS), and rule 1. */

import type { ListingStatus } from "../gql/graphql";

export type ListingAction = "publish" | "pause" | "withdraw" | "reprice";

const ACTIONS: Record<ListingStatus, readonly ListingAction[]> = {
  DRAFT: ["publish", "reprice", "withdraw"],
  ACTIVE: ["reprice", "pause", "withdraw"],
  PAUSED: ["publish", "reprice", "withdraw"],
  RESERVED: [],
  SOLD: [],
  WITHDRAWN: [],
};

export function listingActions(status: ListingStatus): readonly ListingAction[] {
  return ACTIONS[status];
}

export const LISTING_VIEWS: readonly {
  key: string;
  label: string;
  status: ListingStatus[];
}[] = [
  { key: "active", label: "On the board", status: ["ACTIVE"] },
  { key: "paused", label: "Paused", status: ["PAUSED"] },
  { key: "draft", label: "Drafts", status: ["DRAFT"] },
  { key: "sold", label: "Reserved and sold", status: ["RESERVED", "SOLD"] },
  { key: "withdrawn", label: "Withdrawn", status: ["WITHDRAWN"] },
];

/** Why a graded device may not be listed yet (rule 1); empty when it may. */
export function listingBlockers(device: {
  lockStatus: string;
  blacklistStatus: string;
  currentGrade: { dataWiped: boolean } | null;
}): string[] {
  const blockers: string[] = [];
  if (!device.currentGrade) {
    blockers.push("it has no grade");
  } else if (!device.currentGrade.dataWiped) {
    blockers.push("its data is not wiped");
  }
  if (device.lockStatus !== "UNLOCKED") {
    blockers.push("it is locked");
  }
  if (device.blacklistStatus !== "CLEAN") {
    blockers.push("it is blacklisted");
  }
  return blockers;
}
