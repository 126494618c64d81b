import { useMemo, useState } from "react";
import { useQuery } from "urql";

import { deviceDetails, deviceName } from "../board/describe";
import type { OfferStatus } from "../gql/graphql";
import { formatDateTime, timeLeft } from "../shared/dates";
import { describeRequestError } from "../shared/errors";
import { offerStatusSentence } from "../shared/labels";
import { useLiveEvents } from "../shared/live";
import type { LiveTopic } from "../shared/liveEvents";
import { Link } from "../shared/router";
import { pathFor } from "../shared/routes";
import { LoadState, Money, PageTitle, StatusBadge } from "../shared/ui";
import { useHighlights } from "../shared/useHighlights";
import { OfferActions } from "./OfferActions";
import { OffersQuery } from "./operations";

const TOPICS: readonly LiveTopic[] = [{ entityType: "Offer" }, { entityType: "Listing" }];

const VIEWS: readonly { key: string; label: string; status: OfferStatus[] | null }[] = [
  { key: "open", label: "Open", status: ["PENDING"] },
  { key: "all", label: "All", status: null },
];

/** A buyer's offers and the seller's counters, with their status as it changes. */
export function MyOffersPage() {
  const [view, setView] = useState("all");
  const status = VIEWS.find((item) => item.key === view)?.status ?? null;
  const variables = useMemo(() => ({ first: 100, filter: status ? { status } : null }), [status]);
  const [result, reexecute] = useQuery({
    query: OffersQuery,
    variables,
    requestPolicy: "cache-and-network",
  });
  const refresh = () => reexecute({ requestPolicy: "network-only" });
  const mode = useLiveEvents(TOPICS, refresh);
  const offers = useMemo(
    () => result.data?.offers.edges.map((edge) => edge.node) ?? null,
    [result.data],
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
          fetching={result.fetching}
          hasData={Boolean(result.data)}
          error={result.error ? describeRequestError(result.error) : null}
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
