import { deviceDetails, deviceName } from "../board/describe";
import type { OrderSummaryFragment, ShipmentInfoFragment } from "../gql/graphql";
import { formatDateTime } from "../shared/dates";
import { Money, StatusBadge } from "../shared/ui";
import { safeTrackingUrl, shipmentStatusSentence } from "./tracking";

export function OrderLines({ order }: { order: OrderSummaryFragment }) {
  return (
    <ul className="plain-list lines">
      {order.lines.map((line) => (
        <li key={line.id} className={line.released ? "line line--released" : "line"}>
          <span>
            <span className="strong">{deviceName(line.listing.device)}</span>{" "}
            <span className="muted">{deviceDetails(line.listing.device)}</span>
            {line.listing.device.currentGrade ? (
              <span className="muted"> · Grade {line.listing.device.currentGrade.cosmetic}</span>
            ) : null}
            {line.released ? <span className="muted"> (released)</span> : null}
          </span>
          <Money value={line.price} />
        </li>
      ))}
    </ul>
  );
}

export function ShipmentCard({ shipment }: { shipment: ShipmentInfoFragment }) {
  const url = safeTrackingUrl(shipment.trackingUrl);
  return (
    <div className="shipment" data-shipment-id={shipment.id}>
      <p className="shipment__head">
        <StatusBadge status={shipment.status} /> {shipmentStatusSentence(shipment.status)}
      </p>
      <dl className="facts facts--compact">
        <dt>Carrier</dt>
        <dd>{shipment.carrier}</dd>
        <dt>Tracking number</dt>
        <dd className="mono" data-testid="tracking-number">
          {url ? (
            <a href={url} target="_blank" rel="noreferrer noopener">
              {shipment.trackingNumber}
            </a>
          ) : (
            shipment.trackingNumber
          )}
        </dd>
        <dt>Shipped</dt>
        <dd>{formatDateTime(shipment.shippedAt)}</dd>
        {shipment.deliveredAt ? (
          <>
            <dt>Delivered</dt>
            <dd>{formatDateTime(shipment.deliveredAt)}</dd>
          </>
        ) : null}
      </dl>
    </div>
  );
}

export function orderTitle(order: OrderSummaryFragment): string {
  const count = order.lines.length;
  const first = order.lines[0]?.listing.device;
  if (!first) {
    return "Order";
  }
  return count === 1 ? deviceName(first) : `${deviceName(first)} and ${count - 1} more`;
}
