import { type FormEvent, useId, useState } from "react";
import { useMutation } from "urql";

import type { OfferParty, OfferRowFragment } from "../gql/graphql";
import { outcomeOf } from "../shared/errors";
import { compareMinor, formatMoney, parseMoneyInput } from "../shared/money";
import { Link } from "../shared/router";
import { pathFor } from "../shared/routes";
import { Notice, type NoticeValue, newIdempotencyKey } from "../shared/ui";
import {
  AcceptOfferMutation,
  CounterOfferMutation,
  RejectOfferMutation,
  WithdrawOfferMutation,
} from "./operations";

interface Props {
  offer: OfferRowFragment;
  /** The side the signed-in person negotiates for. */
  side: OfferParty;
  /** Called after any answer, accepted or refused, so the list shows the latest. */
  onChanged: () => void;
  /** Where an accepted offer's order is shown (buyers), if anywhere. */
  linkOrders?: boolean;
  /** Show outcomes there (a list whose row goes away once answered), not under the row. */
  onOutcome?: (notice: NoticeValue) => void;
}

/** Answer an offer made by the other side (accept, counter, reject), or withdraw one's own. */
export function OfferActions({ offer, side, onChanged, linkOrders = false, onOutcome }: Props) {
  const [notice, setLocalNotice] = useState<NoticeValue>(null);
  const setNotice = (value: NoticeValue) => (onOutcome ? onOutcome(value) : setLocalNotice(value));
  const [orderId, setOrderId] = useState<string | null>(null);
  const [countering, setCountering] = useState(false);
  const [{ fetching: accepting }, accept] = useMutation(AcceptOfferMutation);
  const [{ fetching: rejecting }, reject] = useMutation(RejectOfferMutation);
  const [{ fetching: withdrawing }, withdraw] = useMutation(WithdrawOfferMutation);
  const busy = accepting || rejecting || withdrawing;
  const label = offerLabel(offer);

  if (offer.status !== "PENDING") {
    return orderId && linkOrders ? (
      <p className="notice notice--ok" role="status">
        Accepted. <Link to={pathFor({ name: "order", id: orderId })}>See the order</Link>
      </p>
    ) : (
      <Notice notice={notice} />
    );
  }

  async function handleAccept() {
    setNotice(null);
    const outcome = outcomeOf(
      await accept({
        input: {
          offerId: offer.id,
          expectedVersion: offer.version,
          idempotencyKey: newIdempotencyKey(),
        },
      }),
      (data) => data.acceptOffer,
      "AcceptOfferPayload",
    );
    if (outcome.kind === "done") {
      setOrderId(outcome.value.orderId);
      setNotice({ kind: "ok", text: `Accepted ${label}: an order now reserves the device.` });
    } else {
      setNotice({ kind: "error", text: outcome.text });
    }
    onChanged();
  }

  async function handleReject() {
    setNotice(null);
    const outcome = outcomeOf(
      await reject({ input: { offerId: offer.id, expectedVersion: offer.version } }),
      (data) => data.rejectOffer,
      "OfferPayload",
    );
    setNotice(
      outcome.kind === "done"
        ? { kind: "ok", text: `Rejected ${label}.` }
        : { kind: "error", text: outcome.text },
    );
    onChanged();
  }

  async function handleWithdraw() {
    setNotice(null);
    const outcome = outcomeOf(
      await withdraw({ input: { offerId: offer.id, expectedVersion: offer.version } }),
      (data) => data.withdrawOffer,
      "OfferPayload",
    );
    setNotice(
      outcome.kind === "done"
        ? { kind: "ok", text: `Withdrew ${label}.` }
        : { kind: "error", text: outcome.text },
    );
    onChanged();
  }

  const theirs = offer.fromParty !== side;
  return (
    <div className="actions">
      {theirs ? (
        <div className="actions__row">
          <button
            type="button"
            className="button button--small"
            disabled={busy}
            onClick={handleAccept}
            aria-label={`Accept ${label}`}
          >
            Accept
          </button>
          <button
            type="button"
            className="button button--small button--secondary"
            disabled={busy}
            aria-expanded={countering}
            onClick={() => setCountering((value) => !value)}
            aria-label={`Counter ${label}`}
          >
            Counter
          </button>
          <button
            type="button"
            className="button button--small button--danger"
            disabled={busy}
            onClick={handleReject}
            aria-label={`Reject ${label}`}
          >
            Reject
          </button>
        </div>
      ) : (
        <div className="actions__row">
          <button
            type="button"
            className="button button--small button--secondary"
            disabled={busy}
            onClick={handleWithdraw}
            aria-label={`Withdraw ${label}`}
          >
            Withdraw
          </button>
        </div>
      )}
      {theirs && countering ? (
        <CounterForm
          offer={offer}
          onDone={(text) => {
            setCountering(false);
            setNotice({ kind: "ok", text });
            onChanged();
          }}
          onRefused={(text) => {
            setNotice({ kind: "error", text });
            onChanged();
          }}
        />
      ) : null}
      <Notice notice={notice} />
    </div>
  );
}

export function offerLabel(offer: OfferRowFragment): string {
  const device = offer.listing?.device;
  const what = device ? ` on ${device.make} ${device.model}` : "";
  return `the offer of ${formatMoney(offer.amount)}${what}`;
}

function CounterForm({
  offer,
  onDone,
  onRefused,
}: {
  offer: OfferRowFragment;
  onDone: (text: string) => void;
  onRefused: (text: string) => void;
}) {
  const id = useId();
  const [amount, setAmount] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [{ fetching }, counter] = useMutation(CounterOfferMutation);
  const price = offer.listing?.price ?? null;
  const currency = offer.amount.currency;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const parsed = parseMoneyInput(amount, currency);
    if (parsed.kind !== "valid") {
      setProblem(parsed.kind === "empty" ? "Enter the amount of your counter." : parsed.message);
      return;
    }
    if (price && compareMinor(parsed.minor, price.amountMinor) > 0) {
      setProblem(`A counter is at most the list price, ${formatMoney(price)}.`);
      return;
    }
    setProblem(null);
    const outcome = outcomeOf(
      await counter({
        input: {
          offerId: offer.id,
          amount: parsed.minor,
          expectedVersion: offer.version,
          idempotencyKey: newIdempotencyKey(),
        },
      }),
      (data) => data.counterOffer,
      "CounterOfferPayload",
    );
    if (outcome.kind === "done") {
      onDone(`Countered with ${formatMoney(outcome.value.offer.amount)}.`);
    } else if (outcome.refusal?.field === "amount") {
      setProblem(outcome.text);
    } else {
      onRefused(outcome.text);
    }
  }

  return (
    <form className="counter" onSubmit={submit} noValidate>
      <div className="field">
        <label htmlFor={`${id}-amount`}>Counter amount ({currency})</label>
        <input
          id={`${id}-amount`}
          inputMode="decimal"
          autoComplete="off"
          value={amount}
          aria-invalid={problem ? true : undefined}
          aria-describedby={`${id}-hint`}
          onChange={(event) => {
            setAmount(event.target.value);
            setProblem(null);
          }}
        />
        <p id={`${id}-hint`} className={problem ? "hint hint--error" : "hint"}>
          {problem ?? (price ? `At most the list price, ${formatMoney(price)}.` : "")}
        </p>
      </div>
      <button type="submit" className="button button--small" disabled={fetching}>
        {fetching ? "Sending…" : "Send counter"}
      </button>
    </form>
  );
}
