import { type FormEvent, useId, useMemo, useState } from "react";
import { useMutation, useQuery } from "urql";

import { describeRequestError, outcomeOf } from "../shared/errors";
import { listingUnavailableSentence, offerStatusSentence } from "../shared/labels";
import { useLiveEvents } from "../shared/live";
import type { LiveTopic } from "../shared/liveEvents";
import { compareMinor, formatMoney, parseMoneyInput } from "../shared/money";
import { Link, navigate } from "../shared/router";
import { pathFor } from "../shared/routes";
import { formatDateTime } from "../shared/dates";
import {
  Money,
  Notice,
  type NoticeValue,
  PageTitle,
  StatusBadge,
  newIdempotencyKey,
} from "../shared/ui";
import { useCan } from "../shared/viewer";
import { deviceDetails, deviceName } from "./describe";
import { BuyListingMutation, ListingQuery, MakeOfferMutation } from "./operations";

export function ListingPage({ id }: { id: string }) {
  const [result, reexecute] = useQuery({
    query: ListingQuery,
    variables: { id },
    requestPolicy: "cache-and-network",
  });
  const listing = result.data?.listing ?? null;
  const deviceId = listing?.device.id ?? null;
  const topics = useMemo<LiveTopic[]>(
    () => [
      { entityType: "Listing", entityId: id },
      { entityType: "Offer" },
      ...(deviceId ? [{ entityType: "Device", entityId: deviceId }] : []),
    ],
    [id, deviceId],
  );
  const mode = useLiveEvents(topics, () => reexecute({ requestPolicy: "network-only" }));
  const [notice, setNotice] = useState<NoticeValue>(null);
  const refresh = () => reexecute({ requestPolicy: "network-only" });

  if (!listing) {
    return (
      <div className="page">
        <p className="back">
          <Link to={pathFor({ name: "board" })}>← Board</Link>
        </p>
        {result.error ? (
          <p className="notice notice--error" role="alert">
            {describeRequestError(result.error)}
          </p>
        ) : result.fetching || !result.data ? (
          <p className="muted">Loading…</p>
        ) : (
          <p className="notice notice--error" role="alert">
            This listing does not exist, or it is not on the board.
          </p>
        )}
      </div>
    );
  }

  const grade = listing.device.currentGrade;
  const unavailable = listingUnavailableSentence(listing.status);
  const pending = listing.offers.find(
    (offer) => offer.status === "PENDING" && offer.fromParty === "BUYER",
  );

  return (
    <div className="page">
      <p className="back">
        <Link to={pathFor({ name: "board" })}>← Board</Link>
      </p>
      <PageTitle mode={mode}>{deviceName(listing.device)}</PageTitle>
      <div className="page__grid">
        <section className="card" aria-labelledby="listing-specs">
          <div className="toolbar">
            <h2 id="listing-specs">The device</h2>
            <StatusBadge status={listing.status} />
          </div>
          <dl className="facts">
            <dt>Price</dt>
            <dd>
              <Money value={listing.price} className="money--large" />
            </dd>
            <dt>Specs</dt>
            <dd>{deviceDetails(listing.device) || "—"}</dd>
            <dt>Cosmetic grade</dt>
            <dd data-testid="grade">{grade ? grade.cosmetic : "Not graded"}</dd>
            <dt>Functional test</dt>
            <dd>
              {grade
                ? grade.functionalPass
                  ? "Pass"
                  : `Fail: ${grade.failedChecks.join(", ") || "unspecified"}`
                : "—"}
            </dd>
            <dt>Battery health</dt>
            <dd>{grade?.batteryHealthPct != null ? `${grade.batteryHealthPct}%` : "—"}</dd>
            <dt>Data wiped</dt>
            <dd>{grade ? (grade.dataWiped ? "Yes" : "No") : "—"}</dd>
            <dt>Graded</dt>
            <dd>{formatDateTime(grade?.gradedAt)}</dd>
            {grade?.notes ? (
              <>
                <dt>Notes</dt>
                <dd>{grade.notes}</dd>
              </>
            ) : null}
          </dl>
          {listing.offers.length > 0 ? (
            <>
              <h3>Your offers on it</h3>
              <ul className="plain-list">
                {listing.offers.map((offer) => (
                  <li key={offer.id} data-offer-id={offer.id}>
                    <Money value={offer.amount} /> <StatusBadge status={offer.status} />{" "}
                    <span className="muted">
                      {offerStatusSentence(offer.status, offer.fromParty)}
                    </span>
                  </li>
                ))}
              </ul>
              <p>
                <Link to={pathFor({ name: "myOffers" })}>All my offers</Link>
              </p>
            </>
          ) : null}
        </section>
        <div className="stack">
          {unavailable ? (
            <p className="notice notice--warn" role="status" data-testid="unavailable">
              {unavailable}
            </p>
          ) : (
            <BuyerActions
              listingId={listing.id}
              price={listing.price}
              pendingOffer={pending ? formatMoney(pending.amount) : null}
              onNotice={setNotice}
              onRefused={refresh}
            />
          )}
          <Notice notice={notice} />
        </div>
      </div>
    </div>
  );
}

interface BuyerActionsProps {
  listingId: string;
  price: { amount: string; amountMinor: string; currency: string };
  pendingOffer: string | null;
  onNotice: (notice: NoticeValue) => void;
  onRefused: () => void;
}

function BuyerActions({ listingId, price, pendingOffer, onNotice, onRefused }: BuyerActionsProps) {
  const mayBuy = useCan("buy");
  const mayOffer = useCan("makeOffers");
  const [{ fetching: buying }, buy] = useMutation(BuyListingMutation);
  const [{ fetching: offering }, makeOffer] = useMutation(MakeOfferMutation);
  const [buyKey] = useState(newIdempotencyKey);
  const [amount, setAmount] = useState("");
  const [amountProblem, setAmountProblem] = useState<string | null>(null);
  const id = useId();

  async function handleBuy() {
    onNotice(null);
    const outcome = outcomeOf(
      await buy({ input: { listingIds: [listingId], idempotencyKey: buyKey } }),
      (data) => data.buyListings,
      "BuyListingsPayload",
    );
    if (outcome.kind === "done") {
      navigate(pathFor({ name: "order", id: outcome.value.order.id }));
      return;
    }
    onNotice({ kind: "error", text: outcome.text });
    onRefused();
  }

  async function handleOffer(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    onNotice(null);
    const parsed = parseMoneyInput(amount, price.currency);
    if (parsed.kind !== "valid") {
      setAmountProblem(parsed.kind === "empty" ? "Enter the amount you offer." : parsed.message);
      return;
    }
    if (compareMinor(parsed.minor, price.amountMinor) > 0) {
      setAmountProblem(`An offer is at most the list price, ${formatMoney(price)}.`);
      return;
    }
    if (compareMinor(parsed.minor, "0") <= 0) {
      setAmountProblem("An offer is more than nothing.");
      return;
    }
    setAmountProblem(null);
    const outcome = outcomeOf(
      await makeOffer({
        input: { listingId, amount: parsed.minor, idempotencyKey: newIdempotencyKey() },
      }),
      (data) => data.makeOffer,
      "OfferPayload",
    );
    if (outcome.kind === "done") {
      setAmount("");
      onNotice({
        kind: "ok",
        text: `Offer of ${formatMoney(outcome.value.offer.amount)} sent: the seller answers in My offers.`,
      });
      return;
    }
    if (outcome.refusal?.field === "amount") {
      setAmountProblem(outcome.text);
    } else {
      onNotice({ kind: "error", text: outcome.text });
    }
    onRefused();
  }

  if (!mayBuy && !mayOffer) {
    return null;
  }
  return (
    <>
      {mayBuy ? (
        <section className="card" aria-labelledby={`${id}-buy`}>
          <h2 id={`${id}-buy`}>Buy now</h2>
          <p className="muted">
            One click reserves the device for you at <Money value={price} />.
          </p>
          <button type="button" className="button" disabled={buying} onClick={handleBuy}>
            {buying ? "Buying…" : `Buy for ${formatMoney(price)}`}
          </button>
        </section>
      ) : null}
      {mayOffer ? (
        <section className="card" aria-labelledby={`${id}-offer`}>
          <h2 id={`${id}-offer`}>Make an offer</h2>
          {pendingOffer ? (
            <p className="muted">Your offer of {pendingOffer} is waiting for an answer.</p>
          ) : null}
          <form onSubmit={handleOffer} noValidate>
            <div className="field">
              <label htmlFor={`${id}-amount`}>Your offer ({price.currency})</label>
              <input
                id={`${id}-amount`}
                inputMode="decimal"
                autoComplete="off"
                value={amount}
                aria-invalid={amountProblem ? true : undefined}
                aria-describedby={`${id}-amount-hint`}
                onChange={(event) => {
                  setAmount(event.target.value);
                  setAmountProblem(null);
                }}
              />
              <p id={`${id}-amount-hint`} className={amountProblem ? "hint hint--error" : "hint"}>
                {amountProblem ?? `At most ${formatMoney(price)}. Offers expire after 48 hours.`}
              </p>
            </div>
            <button type="submit" className="button button--secondary" disabled={offering}>
              {offering ? "Sending…" : "Make offer"}
            </button>
          </form>
        </section>
      ) : null}
    </>
  );
}
