/**
 * Words for the API's enums: status labels, the tone of their badges, and sentences that say
 * what a status means for the person looking at it.
 */

import type {
  DeviceStatus,
  ListingStatus,
  LotStatus,
  OfferParty,
  OfferStatus,
  OrderStatus,
  SettlementStatus,
  ShipmentStatus,
} from "../gql/graphql";

export type Tone = "neutral" | "ok" | "warn" | "error" | "info";

/** "LABEL_CREATED" -> "Label created". */
export function humanize(value: string): string {
  const words = value.toLowerCase().replace(/_/g, " ").trim();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

const TONES: Record<string, Tone> = {
  // devices
  AVAILABLE: "ok",
  QUARANTINED: "error",
  RESERVED: "warn",
  SOLD: "info",
  SHIPPED: "info",
  DELIVERED: "ok",
  // listings
  ACTIVE: "ok",
  PAUSED: "warn",
  WITHDRAWN: "neutral",
  DRAFT: "neutral",
  // offers
  PENDING: "warn",
  ACCEPTED: "ok",
  REJECTED: "error",
  COUNTERED: "info",
  EXPIRED: "neutral",
  INVALIDATED: "error",
  // orders, shipments, settlements, lots
  CONFIRMED: "info",
  COMPLETED: "ok",
  CANCELLED: "neutral",
  IN_TRANSIT: "info",
  EXCEPTION: "error",
  APPROVED: "info",
  PAID: "ok",
  VOID: "neutral",
  OPEN: "info",
  RECEIVING: "warn",
  RECONCILED: "ok",
  CLOSED: "neutral",
};

export function statusTone(status: string): Tone {
  return TONES[status] ?? "neutral";
}

export type AnyStatus =
  | DeviceStatus
  | ListingStatus
  | LotStatus
  | OfferStatus
  | OrderStatus
  | SettlementStatus
  | ShipmentStatus;

export function statusLabel(status: AnyStatus): string {
  return humanize(status);
}

/** What an offer's status means to a buyer, as a sentence. */
export function offerStatusSentence(status: OfferStatus, fromParty: OfferParty): string {
  const mine = fromParty === "BUYER";
  switch (status) {
    case "PENDING":
      return mine
        ? "Waiting for the seller's answer."
        : "The seller's counter: your turn to answer.";
    case "ACCEPTED":
      return mine
        ? "Accepted: an order reserves the device."
        : "You accepted the seller's counter.";
    case "REJECTED":
      return mine ? "The seller turned this offer down." : "You turned this counter down.";
    case "COUNTERED":
      return mine ? "The seller answered with a counter." : "You answered with a counter.";
    case "EXPIRED":
      return "Expired without an answer.";
    case "WITHDRAWN":
      return mine ? "You withdrew this offer." : "The seller withdrew this counter.";
    case "INVALIDATED":
      return "Invalidated: the device is no longer for sale.";
  }
}

/** Why a listing is not on the board (any status but ACTIVE), in the API's words. */
export function listingUnavailableSentence(status: ListingStatus): string | null {
  switch (status) {
    case "ACTIVE":
      return null;
    case "DRAFT":
      return "This listing is not published yet.";
    case "PAUSED":
      return "This listing is paused: it is not for sale at the moment.";
    case "RESERVED":
      return "This listing is reserved: it is not for sale any more.";
    case "SOLD":
      return "This listing is sold: it is not for sale any more.";
    case "WITHDRAWN":
      return "This listing was withdrawn: it is not for sale any more.";
  }
}

export function partyLabel(party: OfferParty): string {
  return party === "BUYER" ? "Buyer" : "Seller (counter)";
}
