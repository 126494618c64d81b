import { useState } from "react";
import { useMutation, useQuery } from "urql";

import type {
  OrderLiveSubscription as OrderLiveSubscriptionResult,
  OrderSummaryFragment,
} from "../gql/graphql";
import { formatDateTime } from "../shared/dates";
import { describeRequestError, outcomeOf } from "../shared/errors";
import { type LiveEntity, applyEntityUpdate } from "../shared/liveList";
import { Link } from "../shared/router";
import { pathFor } from "../shared/routes";
import { Money, Notice, type NoticeValue, PageTitle, StatusBadge } from "../shared/ui";
import { useLiveSubscription } from "../shared/useLiveSubscription";
import { useCan } from "../shared/viewer";
import { CancelOrderMutation, OrderLiveSubscription, OrderQuery } from "./operations";
import { OrderLines, ShipmentCard, orderTitle } from "./OrderParts";
import { orderStatusSentence } from "./tracking";

/** One order: its devices, its status and its parcels' tracking, as they change. */
export function OrderPage({ id }: { id: string }) {
  // The order as the subscription sends it: its state, then again after each change.
  const [live, setLive] = useState<LiveEntity<OrderSummaryFragment> | null>(null);
  const stream = useLiveSubscription(
    OrderLiveSubscription,
    { id },
    (data: OrderLiveSubscriptionResult, key) =>
      setLive((current) =>
        applyEntityUpdate(current, key, {
          kind: data.order.kind,
          value: data.order.order,
          cursor: data.order.cursor,
        }),
      ),
    () => reexecute({ requestPolicy: "network-only" }),
  );
  // The query stands in while the stream is unavailable, and says why one is refused.
  const [result, reexecute] = useQuery({
    query: OrderQuery,
    variables: { id },
    requestPolicy: "network-only",
    pause: stream.mode !== "polling" && !stream.refused,
  });
  const mode = stream.mode;
  const refresh = () => {
    if (stream.mode === "polling") {
      reexecute({ requestPolicy: "network-only" });
    }
  };
  const mayCancel = useCan("buy");
  const [notice, setNotice] = useState<NoticeValue>(null);
  const [{ fetching: cancelling }, cancel] = useMutation(CancelOrderMutation);
  const streamed = live?.key === stream.key ? live.value : null;
  const order =
    stream.mode === "polling" || stream.refused ? (result.data?.order ?? null) : streamed;

  const back = (
    <p className="back">
      <Link to={pathFor({ name: "myOrders" })}>← My orders</Link>
    </p>
  );
  if (!order) {
    return (
      <div className="page">
        {back}
        {result.error ? (
          <p className="notice notice--error" role="alert">
            {describeRequestError(result.error)}
          </p>
        ) : !stream.refused && stream.mode === "stream" ? (
          <p className="muted">Loading…</p>
        ) : result.fetching || !result.data ? (
          <p className="muted">Loading…</p>
        ) : (
          <p className="notice notice--error" role="alert">
            This order does not exist, or it is not yours.
          </p>
        )}
      </div>
    );
  }

  async function handleCancel() {
    if (!order) {
      return;
    }
    const outcome = outcomeOf(
      await cancel({ input: { orderId: order.id, expectedVersion: order.version } }),
      (data) => data.cancelOrder,
      "CancelOrderPayload",
    );
    setNotice(
      outcome.kind === "done"
        ? { kind: "ok", text: "Order cancelled: the device is for sale again." }
        : { kind: "error", text: outcome.text },
    );
    refresh();
  }

  return (
    <div className="page">
      {back}
      <PageTitle mode={mode}>{orderTitle(order)}</PageTitle>
      <div className="page__grid">
        <section className="card" aria-labelledby="order-lines">
          <div className="toolbar">
            <h2 id="order-lines">Order</h2>
            <StatusBadge status={order.status} />
          </div>
          <p data-testid="order-status">{orderStatusSentence(order.status)}</p>
          <OrderLines order={order} />
          <p className="total">
            Total <Money value={order.total} className="strong" />
          </p>
          <p className="muted small">Placed {formatDateTime(order.createdAt)}</p>
          {mayCancel && order.status === "PENDING" ? (
            <button
              type="button"
              className="button button--secondary button--inline"
              disabled={cancelling}
              onClick={handleCancel}
            >
              Cancel order
            </button>
          ) : null}
          <Notice notice={notice} />
        </section>
        <section className="card" aria-labelledby="order-tracking" aria-live="polite">
          <h2 id="order-tracking">Tracking</h2>
          {order.shipments.length === 0 ? (
            <p className="muted" data-testid="no-tracking">
              {order.status === "CANCELLED"
                ? "Nothing will ship."
                : "Not shipped yet: the tracking number shows here as soon as the parcel leaves."}
            </p>
          ) : (
            order.shipments.map((shipment) => (
              <ShipmentCard key={shipment.id} shipment={shipment} />
            ))
          )}
        </section>
      </div>
    </div>
  );
}
