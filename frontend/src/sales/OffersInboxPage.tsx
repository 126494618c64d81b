import { useMemo, useState } from "react";
import { useQuery } from "urql";

import { deviceDetails, deviceName } from "../board/describe";
import type { OfferStatus } from "../gql/graphql";
import { OfferActions } from "../offers/OfferActions";
import { OffersQuery } from "../offers/operations";
import { formatDateTime, timeLeft } from "../shared/dates";
import { describeRequestError } from "../shared/errors";
import { offerStatusSentence, partyLabel } from "../shared/labels";
import { useLiveEvents } from "../shared/live";
import type { LiveTopic } from "../shared/liveEvents";
import { LoadState, Money, Notice, type NoticeValue, PageTitle, StatusBadge } from "../shared/ui";
import { useHighlights } from "../shared/useHighlights";

const TOPICS: readonly LiveTopic[] = [{ entityType: "Offer" }];

const VIEWS: readonly {
  key: string;
  label: string;
  status: OfferStatus[] | null;
  fromParty: "BUYER" | "SELLER" | null;
  empty: string;
}[] = [
  {
    key: "waiting",
    label: "Waiting for us",
    status: ["PENDING"],
    fromParty: "BUYER",
    empty: "No offer is waiting for an answer. New ones appear here as buyers make them.",
  },
  {
    key: "countered",
    label: "Our counters",
    status: ["PENDING"],
    fromParty: "SELLER",
    empty: "No counter of ours is waiting for a buyer.",
  },
  { key: "all", label: "All", status: null, fromParty: null, empty: "No offers yet." },
];

/** Sales' inbox of buyers' offers, live: accept, counter or reject each one. */
export function OffersInboxPage() {
  const [viewKey, setViewKey] = useState("waiting");
  const view = VIEWS.find((item) => item.key === viewKey) ?? VIEWS[0]!;
  const variables = useMemo(
    () => ({
      first: 100,
      filter: {
        ...(view.status ? { status: view.status } : {}),
        ...(view.fromParty ? { fromParty: view.fromParty } : {}),
      },
    }),
    [view],
  );
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
    viewKey,
  );
  const [notice, setNotice] = useState<NoticeValue>(null);

  return (
    <div className="page">
      <PageTitle mode={mode}>Offers</PageTitle>
      <section className="card" aria-labelledby="inbox-title">
        <div className="toolbar">
          <h2 id="inbox-title">
            Inbox
            {result.data ? <span className="muted"> ({result.data.offers.totalCount})</span> : null}
          </h2>
          <div className="segmented" role="group" aria-label="Show">
            {VIEWS.map((item) => (
              <button
                key={item.key}
                type="button"
                className="segmented__item"
                aria-pressed={viewKey === item.key}
                onClick={() => setViewKey(item.key)}
              >
                {item.label}
              </button>
            ))}
          </div>
        </div>
        <Notice notice={notice} />
        <LoadState
          fetching={result.fetching}
          hasData={Boolean(result.data)}
          error={result.error ? describeRequestError(result.error) : null}
          empty={(offers?.length ?? 0) === 0}
          emptyText={view.empty}
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
                    {device ? deviceName(device) : "A listing"}{" "}
                    <span className="muted">
                      {device ? deviceDetails(device) : ""}
                      {device?.currentGrade ? ` · Grade ${device.currentGrade.cosmetic}` : ""}
                    </span>
                  </p>
                  <p>
                    <span className="strong">{offer.buyer?.name ?? "A buyer"}</span>
                    {offer.fromParty === "SELLER" ? " (our counter)" : ""} offers{" "}
                    <Money value={offer.amount} className="strong" />
                    {offer.listing ? (
                      <span className="muted">
                        {" "}
                        · list price <Money value={offer.listing.price} />
                      </span>
                    ) : null}
                  </p>
                  <p className="item__status">
                    <StatusBadge status={offer.status} /> <span>{partyLabel(offer.fromParty)}</span>
                    {offer.status !== "PENDING" ? (
                      <span className="muted">
                        {" "}
                        · {offerStatusSentence(offer.status, offer.fromParty)}
                      </span>
                    ) : null}
                  </p>
                  <p className="muted small">
                    {formatDateTime(offer.createdAt)}
                    {offer.status === "PENDING" ? ` · expires ${timeLeft(offer.expiresAt)}` : ""}
                  </p>
                </div>
                <OfferActions
                  offer={offer}
                  side="SELLER"
                  onChanged={refresh}
                  onOutcome={setNotice}
                />
              </li>
            );
          })}
        </ul>
      </section>
    </div>
  );
}
