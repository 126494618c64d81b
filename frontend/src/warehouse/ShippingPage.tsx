import { type FormEvent, useId, useMemo, useState } from "react";
import { useMutation, useQuery } from "urql";

import type { OrderStatus, ShippingOrderFragment } from "../gql/graphql";
import { ORDER_TOPICS } from "../orders/MyOrdersPage";
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
import { useCan } from "../shared/viewer";
import { MarkDeliveredMutation, ShipOrderMutation, ShippingOrdersQuery } from "./operations";

const TABS: readonly { status: OrderStatus; label: string; empty: string }[] = [
  { status: "CONFIRMED", label: "To ship", empty: "Nothing to ship: confirmed orders show here." },
  { status: "SHIPPED", label: "In transit", empty: "No parcel is on its way." },
  {
    status: "PENDING",
    label: "Awaiting confirmation",
    empty: "No order is waiting for payment or invoice.",
  },
];

export const CARRIERS = ["DHL", "UPS", "DPD", "FedEx", "PostNL", "GLS"];

/** Pick and ship confirmed orders with a carrier and tracking number; mark parcels delivered. */
export function ShippingPage() {
  const [tab, setTab] = useState<OrderStatus>("CONFIRMED");
  const variables = useMemo(() => ({ filter: { status: [tab] } }), [tab]);
  const [result, reexecute] = useQuery({
    query: ShippingOrdersQuery,
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
    tab,
  );
  const [notice, setNotice] = useState<NoticeValue>(null);
  const current = TABS.find((item) => item.status === tab) ?? TABS[0];

  return (
    <div className="page">
      <PageTitle mode={mode}>Shipping</PageTitle>
      <div className="segmented" role="group" aria-label="Orders">
        {TABS.map((item) => (
          <button
            key={item.status}
            type="button"
            className="segmented__item"
            aria-pressed={tab === item.status}
            onClick={() => {
              setTab(item.status);
              setNotice(null);
            }}
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
        emptyText={current?.empty ?? ""}
      />
      <ul className="cards cards--wide">
        {orders?.map((order) => (
          <li
            key={order.id}
            className={highlighted.has(order.id) ? "item item--changed card" : "item card"}
            data-order-id={order.id}
          >
            <ShippingCard
              order={order}
              onOutcome={(value) => {
                setNotice(value);
                refresh();
              }}
            />
          </li>
        ))}
      </ul>
    </div>
  );
}

function ShippingCard({
  order,
  onOutcome,
}: {
  order: ShippingOrderFragment;
  onOutcome: (notice: NoticeValue) => void;
}) {
  const mayShip = useCan("shipOrders");
  const shipment = order.shipments.at(-1);
  const lines = order.lines.filter((line) => !line.released);
  return (
    <div className="shipping">
      <div className="shipping__head">
        <h2 className="h3">
          Order for {order.buyer?.name ?? "a buyer"} <StatusBadge status={order.status} />
        </h2>
        <p className="muted small">
          Placed {formatDateTime(order.createdAt)} · <Money value={order.total} />
        </p>
      </div>
      <table className="table pick-list">
        <caption className="visually-hidden">Pick list</caption>
        <thead>
          <tr>
            <th scope="col">Location</th>
            <th scope="col">Device</th>
            <th scope="col">IMEI or serial</th>
          </tr>
        </thead>
        <tbody>
          {lines.map((line) => (
            <tr key={line.id}>
              <td data-label="Location" className="strong">
                {line.device?.location ?? "—"}
              </td>
              <td data-label="Device">
                {line.device
                  ? `${line.device.make} ${line.device.model}${
                      line.device.storageGb ? ` ${line.device.storageGb} GB` : ""
                    }`
                  : "—"}
              </td>
              <td data-label="IMEI or serial" className="mono">
                {line.device?.imei ?? line.device?.serial ?? "—"}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      {order.status === "CONFIRMED" && mayShip ? (
        <ShipForm order={order} onOutcome={onOutcome} />
      ) : null}
      {order.status === "SHIPPED" && shipment ? (
        <div className="shipping__transit">
          <p>
            {shipment.carrier} <span className="mono">{shipment.trackingNumber}</span> · shipped{" "}
            {formatDateTime(shipment.shippedAt)}
          </p>
          {mayShip ? <DeliverButton order={order} onOutcome={onOutcome} /> : null}
        </div>
      ) : null}
      {order.status === "PENDING" ? (
        <p className="muted">Waiting for sales or finance to confirm payment or invoice.</p>
      ) : null}
    </div>
  );
}

function ShipForm({
  order,
  onOutcome,
}: {
  order: ShippingOrderFragment;
  onOutcome: (notice: NoticeValue) => void;
}) {
  const id = useId();
  const [carrier, setCarrier] = useState("");
  const [tracking, setTracking] = useState("");
  const [url, setUrl] = useState("");
  const [field, setField] = useState<string | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const [key] = useState(newIdempotencyKey);
  const [{ fetching }, ship] = useMutation(ShipOrderMutation);

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    if (!carrier.trim() || !tracking.trim()) {
      setField(!carrier.trim() ? "carrier" : "trackingNumber");
      setProblem("Enter the carrier and the tracking number.");
      return;
    }
    setProblem(null);
    const outcome = outcomeOf(
      await ship({
        input: {
          orderId: order.id,
          carrier: carrier.trim(),
          trackingNumber: tracking.trim(),
          trackingUrl: url.trim() || null,
          expectedVersion: order.version,
          idempotencyKey: key,
        },
      }),
      (data) => data.shipOrder,
      "ShipOrderPayload",
    );
    if (outcome.kind === "done") {
      onOutcome({
        kind: "ok",
        text: `Shipped with ${carrier.trim()}, tracking ${outcome.value.shipment.trackingNumber}: the buyer sees it now.`,
      });
    } else {
      setField(outcome.refusal?.field ?? null);
      setProblem(outcome.text);
    }
  }

  return (
    <form className="ship-form" onSubmit={submit} noValidate aria-label={`Ship order ${order.id}`}>
      <div className="field">
        <label htmlFor={`${id}-carrier`}>Carrier</label>
        <input
          id={`${id}-carrier`}
          list={`${id}-carriers`}
          value={carrier}
          autoComplete="off"
          aria-invalid={field === "carrier" || undefined}
          onChange={(event) => setCarrier(event.target.value)}
        />
        <datalist id={`${id}-carriers`}>
          {CARRIERS.map((name) => (
            <option key={name} value={name} />
          ))}
        </datalist>
      </div>
      <div className="field">
        <label htmlFor={`${id}-tracking`}>Tracking number</label>
        <input
          id={`${id}-tracking`}
          className="mono"
          value={tracking}
          autoComplete="off"
          spellCheck={false}
          aria-invalid={field === "trackingNumber" || undefined}
          onChange={(event) => setTracking(event.target.value)}
        />
      </div>
      <div className="field">
        <label htmlFor={`${id}-url`}>Tracking link (optional)</label>
        <input
          id={`${id}-url`}
          type="url"
          value={url}
          placeholder="https://"
          aria-invalid={field === "trackingUrl" || undefined}
          onChange={(event) => setUrl(event.target.value)}
        />
      </div>
      <button type="submit" className="button" disabled={fetching}>
        {fetching ? "Shipping…" : "Ship order"}
      </button>
      {problem ? (
        <p className="notice notice--error" role="alert">
          {problem}
        </p>
      ) : null}
    </form>
  );
}

function DeliverButton({
  order,
  onOutcome,
}: {
  order: ShippingOrderFragment;
  onOutcome: (notice: NoticeValue) => void;
}) {
  const [{ fetching }, deliver] = useMutation(MarkDeliveredMutation);
  return (
    <button
      type="button"
      className="button button--secondary button--inline"
      disabled={fetching}
      onClick={async () => {
        const outcome = outcomeOf(
          await deliver({
            input: {
              orderId: order.id,
              expectedVersion: order.version,
              idempotencyKey: newIdempotencyKey(),
            },
          }),
          (data) => data.markDelivered,
          "MarkDeliveredPayload",
        );
        onOutcome(
          outcome.kind === "done"
            ? { kind: "ok", text: `Delivered to ${order.buyer?.name ?? "the buyer"}.` }
            : { kind: "error", text: outcome.text },
        );
      }}
    >
      Mark delivered
    </button>
  );
}
