import { useMemo } from "react";
import { useQuery } from "urql";

import { formatDateTime } from "../shared/dates";
import { describeRequestError } from "../shared/errors";
import { useLiveEvents } from "../shared/live";
import type { LiveTopic } from "../shared/liveEvents";
import { Link } from "../shared/router";
import { pathFor } from "../shared/routes";
import { LoadState, Money, PageTitle, StatusBadge } from "../shared/ui";
import { useHighlights } from "../shared/useHighlights";
import { MyOrdersQuery } from "./operations";
import { orderTitle } from "./OrderParts";
import { orderStatusSentence } from "./tracking";

export const ORDER_TOPICS: readonly LiveTopic[] = [
  { entityType: "Order" },
  { entityType: "Shipment" },
];

export function MyOrdersPage() {
  const [result, reexecute] = useQuery({
    query: MyOrdersQuery,
    variables: { first: 100, filter: null },
    requestPolicy: "cache-and-network",
  });
  const mode = useLiveEvents(ORDER_TOPICS, () => reexecute({ requestPolicy: "network-only" }));
  const orders = useMemo(
    () => result.data?.orders.edges.map((edge) => edge.node) ?? null,
    [result.data],
  );
  const highlighted = useHighlights(
    orders,
    (order) => order.id,
    (order) => `${order.status}/${order.version}/${order.shipments.length}`,
  );

  return (
    <div className="page">
      <PageTitle mode={mode}>My orders</PageTitle>
      <section className="card" aria-labelledby="my-orders-title">
        <h2 id="my-orders-title" className="visually-hidden">
          Orders
        </h2>
        <LoadState
          fetching={result.fetching}
          hasData={Boolean(result.data)}
          error={result.error ? describeRequestError(result.error) : null}
          empty={(orders?.length ?? 0) === 0}
          emptyText="No orders yet."
        />
        <ul className="cards">
          {orders?.map((order) => {
            const shipment = order.shipments.at(-1);
            return (
              <li
                key={order.id}
                className={highlighted.has(order.id) ? "item item--changed" : "item"}
                data-order-id={order.id}
              >
                <div className="item__main">
                  <p className="item__title">
                    <Link to={pathFor({ name: "order", id: order.id })}>{orderTitle(order)}</Link>
                  </p>
                  <p className="item__status">
                    <StatusBadge status={order.status} /> {orderStatusSentence(order.status)}
                  </p>
                  <p className="muted small">
                    Placed {formatDateTime(order.createdAt)}
                    {shipment ? ` · ${shipment.carrier} ${shipment.trackingNumber}` : ""}
                  </p>
                </div>
                <Money value={order.total} className="strong" />
              </li>
            );
          })}
        </ul>
      </section>
    </div>
  );
}
