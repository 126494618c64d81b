/** What a buyer reads about an order's progress. */

import type { OrderStatus, ShipmentStatus } from "../gql/graphql";

export function orderStatusSentence(status: OrderStatus): string {
  switch (status) {
    case "PENDING":
      return "Reserved for you: waiting for payment or invoice confirmation.";
    case "CONFIRMED":
      return "Confirmed: being picked and packed.";
    case "SHIPPED":
      return "Shipped: on its way.";
    case "DELIVERED":
      return "Delivered.";
    case "COMPLETED":
      return "Completed.";
    case "CANCELLED":
      return "Cancelled: the devices went back on sale.";
  }
}

export function shipmentStatusSentence(status: ShipmentStatus): string {
  switch (status) {
    case "LABEL_CREATED":
      return "Label created.";
    case "IN_TRANSIT":
      return "In transit.";
    case "DELIVERED":
      return "Delivered.";
    case "EXCEPTION":
      return "The carrier reports a problem with this parcel.";
  }
}

/** A tracking link only for http(s) addresses (the server checks it too). */
export function safeTrackingUrl(url: string | null | undefined): string | null {
  if (!url) {
    return null;
  }
  try {
    const parsed = new URL(url);
    return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
  } catch {
    return null;
  }
}
