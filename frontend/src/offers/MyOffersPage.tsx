import { useEffect, useMemo, useState } from "react";
import { useQuery } from "urql";

import { deviceDetails, deviceName } from "../board/describe";
import type {
  MyOffersLiveSubscription as MyOffersLiveResult,
  OfferRowFragment,
  OfferStatus,
} from "../gql/graphql";
import { formatDateTime, timeLeft } from "../shared/dates";
import { describeRequestError } from "../shared/errors";
import { offerStatusSentence } from "../shared/labels";
import { type LiveList, applyListUpdate, snapshotFromPage } from "../shared/liveList";
import { Link } from "../shared/router";
import { pathFor } from "../shared/routes";
import { LoadState, Money, PageTitle, StatusBadge } from "../shared/ui";
import { useHighlights } from "../shared/useHighlights";
import { useLiveSubscription } from "../shared/useLiveSubscription";
import { OfferActions } from "./OfferActions";
import { MyOffersLiveSubscription, OffersQuery } from "./operations";

const VIEWS: readonly { key: string; label: string; status: OfferStatus[] | null }[] = [
  { key: "open", label: "Open", status: ["PENDING"] },
  { key: "all", label: "All", status: null },
];

const FIRST = 100;

/** A buyer's offers and the seller's counters, with their status as it changes. */
export function MyOffersPage() {
  const [view, setView] = useState("all");
  const status = VIEWS.find((item) => item.key === view)?.status ?? null;
  // Every negotiation of the buyer's, as the subscription keeps it; the view picks from it.
  const [list, setList] = useState<LiveList<OfferRowFragment> | null>(null);
  const stream = useLiveSubscription(
    MyOffersLiveSubscription,
    { first: FIRST },
    (data: MyOffersLiveResult, key) =>
      setList((current) =>
        applyListUpdate(current, key, {
          kind: data.offers.kind,
          items: data.offers.offers,
          cursor: data.offers.cursor,
          hasMore: data.offers.hasMore,
        }),
      ),
    () => reexecute({ requestPolicy: "network-only" }),
  );
  // While the stream is unavailable, the query stands in (polled).
  const [result, reexecute] = useQuery({
    query: OffersQuery,
    variables: { first: FIRST, filter: null },
    requestPolicy: "network-only",
    pause: stream.mode !== "polling",
  });
  const page = result.data?.offers;
  useEffect(() => {
    if (stream.mode === "polling" && page) {
      setList((current) => applyListUpdate(current, stream.key, snapshotFromPage(page)));
    }
  }, [stream.mode, stream.key, page]);
  const refresh = () => {
    if (stream.mode === "polling") {
      reexecute({ requestPolicy: "network-only" });
    }
  };
  const mode = stream.mode;
  const offers = useMemo(
    () => (list ? list.items.filter((offer) => !status || status.includes(offer.status)) : null),
    [list, status],
  );
  const highlighted = useHighlights(
    offers,
    (offer) => offer.id,
    (offer) => `${offer.status}/${offer.version}`,
    view,
  );

  return (
    <div className="page">
      <PageTitle mode={mode}>My offers</PageTitle>
      <section className="card" aria-labelledby="my-offers-title">
        <div className="toolbar">
          <h2 id="my-offers-title">Offers and counters</h2>
          <div className="segmented" role="group" aria-label="Show">
            {VIEWS.map((item) => (
              <button
                key={item.key}
                type="button"
                className="segmented__item"
                aria-pressed={view === item.key}
                onClick={() => setView(item.key)}
              >
                {item.label}
              </button>
            ))}
          </div>
        </div>
        <LoadState
          fetching={list === null && !result.error}
          hasData={list !== null}
          error={list === null && result.error ? describeRequestError(result.error) : null}
          empty={(offers?.length ?? 0) === 0}
          emptyText="No offers yet. Make one from a listing on the board."
        />
        <ul className="cards">
          {offers?.map((offer) => {
            const device = offer.listing?.device;
            return (
              <li
                key={offer.id}
                className={highlighted.has(offer.id) ? "item item--changed" : "item"}
                data-offer-id={offer.id}
                data-status={offer.status}
              >
                <div className="item__main">
                  <p className="item__title">
                    {device && offer.listing ? (
                      <Link to={pathFor({ name: "listing", id: offer.listing.id })}>
                        {deviceName(device)}
                      </Link>
                    ) : (
                      "A listing"
                    )}
                    <span className="muted"> {device ? deviceDetails(device) : ""}</span>
                  </p>
                  <p>
                    {offer.fromParty === "BUYER" ? "Your offer" : "Seller's counter"}:{" "}
                    <Money value={offer.amount} className="strong" />
                    {offer.listing ? (
                      <span className="muted">
                        {" "}
                        (list price <Money value={offer.listing.price} />)
                      </span>
                    ) : null}
                  </p>
                  <p className="item__status">
                    <StatusBadge status={offer.status} />{" "}
                    <span>{offerStatusSentence(offer.status, offer.fromParty)}</span>
                  </p>
                  <p className="muted small">
                    Made {formatDateTime(offer.createdAt)}
                    {offer.status === "PENDING" ? ` · expires ${timeLeft(offer.expiresAt)}` : ""}
                  </p>
                </div>
                <OfferActions offer={offer} side="BUYER" onChanged={refresh} linkOrders />
              </li>
            );
          })}
        </ul>
      </section>
    </div>
  );
}
