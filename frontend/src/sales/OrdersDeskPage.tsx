import { useMemo, useState } from "react";
import { useMutation, useQuery } from "urql";

import type { OrderStatus, OrderSummaryFragment } from "../gql/graphql";
import { ORDER_TOPICS } from "../orders/MyOrdersPage";
import { CancelOrderMutation } from "../orders/operations";
import { OrderLines, orderTitle } from "../orders/OrderParts";
import { formatDateTime } from "../shared/dates";
import { describeRequestError, outcomeOf } from "../shared/errors";
import { useLiveEvents } from "../shared/live";
import {
  LoadState,
  Money,
  Notice,
  type NoticeValue,
  PageTitle,
  StatusBadge,
  newIdempotencyKey,
} from "../shared/ui";
import { useHighlights } from "../shared/useHighlights";
import { CompleteOrderMutation, ConfirmOrderMutation, DeskOrdersQuery } from "./operations";

const TABS: readonly { key: string; label: string; status: OrderStatus[] | null; empty: string }[] =
  [
    {
      key: "pending",
      label: "To confirm",
      status: ["PENDING"],
      empty: "No order waits for confirmation.",
    },
    {
      key: "delivered",
      label: "Delivered",
      status: ["DELIVERED"],
      empty: "No delivered order to close.",
    },
    { key: "all", label: "All", status: null, empty: "No orders yet." },
  ];

/** Orders for sales and finance: confirm payment or invoice, cancel, close delivered ones. */
export function OrdersDeskPage() {
  const [tabKey, setTabKey] = useState("pending");
  const tab = TABS.find((item) => item.key === tabKey) ?? TABS[0]!;
  const variables = useMemo(() => ({ filter: tab.status ? { status: tab.status } : null }), [tab]);
  const [result, reexecute] = useQuery({
    query: DeskOrdersQuery,
    variables,
    requestPolicy: "cache-and-network",
  });
  const refresh = () => reexecute({ requestPolicy: "network-only" });
  const mode = useLiveEvents(ORDER_TOPICS, refresh);
  const orders = useMemo(
    () => result.data?.orders.edges.map((edge) => edge.node) ?? null,
    [result.data],
  );
  const highlighted = useHighlights(
    orders,
    (order) => order.id,
    (order) => String(order.version),
    tabKey,
  );
  const [notice, setNotice] = useState<NoticeValue>(null);
  const report = (value: NoticeValue) => {
    setNotice(value);
    refresh();
  };

  return (
    <div className="page">
      <PageTitle mode={mode}>Orders</PageTitle>
      <div className="segmented" role="group" aria-label="Orders">
        {TABS.map((item) => (
          <button
            key={item.key}
            type="button"
            className="segmented__item"
            aria-pressed={tabKey === item.key}
            onClick={() => setTabKey(item.key)}
          >
            {item.label}
          </button>
        ))}
      </div>
      <Notice notice={notice} />
      <LoadState
        fetching={result.fetching}
        hasData={Boolean(result.data)}
        error={result.error ? describeRequestError(result.error) : null}
        empty={(orders?.length ?? 0) === 0}
        emptyText={tab.empty}
      />
      <ul className="cards cards--wide">
        {orders?.map((order) => (
          <li
            key={order.id}
            className={highlighted.has(order.id) ? "item item--changed card" : "item card"}
            data-order-id={order.id}
          >
            <div className="item__main">
              <h2 className="h3">
                {orderTitle(order)} <StatusBadge status={order.status} />
              </h2>
              <p className="muted small">
                {order.buyer?.name ?? "A buyer"} · placed {formatDateTime(order.createdAt)} · total{" "}
                <Money value={order.total} />
              </p>
              <OrderLines order={order} />
            </div>
            <DeskActions order={order} onOutcome={report} />
          </li>
        ))}
      </ul>
    </div>
  );
}

function DeskActions({
  order,
  onOutcome,
}: {
  order: OrderSummaryFragment;
  onOutcome: (notice: NoticeValue) => void;
}) {
  const [{ fetching: confirming }, confirm] = useMutation(ConfirmOrderMutation);
  const [{ fetching: cancelling }, cancel] = useMutation(CancelOrderMutation);
  const [{ fetching: completing }, complete] = useMutation(CompleteOrderMutation);
  const busy = confirming || cancelling || completing;
  const title = orderTitle(order);
  const input = {
    orderId: order.id,
    expectedVersion: order.version,
    idempotencyKey: newIdempotencyKey(),
  };
  return (
    <div className="actions__row">
      {order.status === "PENDING" ? (
        <button
          type="button"
          className="button button--small"
          disabled={busy}
          aria-label={`Confirm paid: the order of ${title}`}
          onClick={async () => {
            const outcome = outcomeOf(
              await confirm({ input }),
              (data) => data.confirmOrder,
              "ConfirmOrderPayload",
            );
            onOutcome(
              outcome.kind === "done"
                ? { kind: "ok", text: `Confirmed: ${title} goes to the warehouse to ship.` }
                : { kind: "error", text: outcome.text },
            );
          }}
        >
          Confirm paid
        </button>
      ) : null}
      {order.status === "PENDING" || order.status === "CONFIRMED" ? (
        <button
          type="button"
          className="button button--small button--danger"
          disabled={busy}
          aria-label={`Cancel the order of ${title}`}
          onClick={async () => {
            const outcome = outcomeOf(
              await cancel({ input }),
              (data) => data.cancelOrder,
              "CancelOrderPayload",
            );
            onOutcome(
              outcome.kind === "done"
                ? { kind: "ok", text: `Cancelled: ${title} is for sale again.` }
                : { kind: "error", text: outcome.text },
            );
          }}
        >
          Cancel
        </button>
      ) : null}
      {order.status === "DELIVERED" ? (
        <button
          type="button"
          className="button button--small button--secondary"
          disabled={busy}
          aria-label={`Complete the order of ${title}`}
          onClick={async () => {
            const outcome = outcomeOf(
              await complete({ input }),
              (data) => data.completeOrder,
              "CompleteOrderPayload",
            );
            onOutcome(
              outcome.kind === "done"
                ? { kind: "ok", text: `Completed: ${title}.` }
                : { kind: "error", text: outcome.text },
            );
          }}
        >
          Complete
        </button>
      ) : null}
    </div>
  );
}
