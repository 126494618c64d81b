import { type FormEvent, useId, useMemo, useState } from "react";
import { useMutation, useQuery } from "urql";

import { deviceDetails, deviceName, gradeSummary } from "../board/describe";
import type { BoardListingFragment } from "../gql/graphql";
import { describeRequestError, outcomeOf } from "../shared/errors";
import { useLiveEvents } from "../shared/live";
import type { LiveTopic } from "../shared/liveEvents";
import { formatMoney, minorToDecimal, parseMoneyInput } from "../shared/money";
import { LoadState, Notice, type NoticeValue, PageTitle, StatusBadge } from "../shared/ui";
import { useHighlights } from "../shared/useHighlights";
import { useViewer } from "../shared/viewer";
import {
  CreateListingMutation,
  PauseListingMutation,
  PricingListingsQuery,
  PublishListingMutation,
  ReadyToListQuery,
  RepriceListingMutation,
  WithdrawListingMutation,
} from "./operations";
import { LISTING_VIEWS, listingActions, listingBlockers } from "./pricing";

const TOPICS: readonly LiveTopic[] = [{ entityType: "Listing" }, { entityType: "Device" }];

/** Sales' listings: list graded devices, then reprice, publish, pause or withdraw. */
export function PricingPage() {
  const [viewKey, setViewKey] = useState("active");
  const view = LISTING_VIEWS.find((item) => item.key === viewKey) ?? LISTING_VIEWS[0]!;
  const variables = useMemo(() => ({ first: 100, filter: { status: view.status } }), [view]);
  const [listingsResult, reexecuteListings] = useQuery({
    query: PricingListingsQuery,
    variables,
    requestPolicy: "cache-and-network",
  });
  const [readyResult, reexecuteReady] = useQuery({
    query: ReadyToListQuery,
    requestPolicy: "cache-and-network",
  });
  const refresh = () => {
    reexecuteListings({ requestPolicy: "network-only" });
    reexecuteReady({ requestPolicy: "network-only" });
  };
  const mode = useLiveEvents(TOPICS, refresh);
  const [notice, setNotice] = useState<NoticeValue>(null);
  const report = (value: NoticeValue) => {
    setNotice(value);
    refresh();
  };
  const listings = useMemo(
    () => listingsResult.data?.listings.edges.map((edge) => edge.node) ?? null,
    [listingsResult.data],
  );
  const highlighted = useHighlights(
    listings,
    (listing) => listing.id,
    (listing) => `${listing.version}/${listing.price.amountMinor}`,
    viewKey,
  );
  const ready = readyResult.data?.devices.edges.map((edge) => edge.node) ?? [];

  return (
    <div className="page">
      <PageTitle mode={mode}>Listings</PageTitle>
      <Notice notice={notice} />
      <section className="card" aria-labelledby="listings-title">
        <div className="toolbar">
          <h2 id="listings-title">
            Listings
            {listingsResult.data ? (
              <span className="muted"> ({listingsResult.data.listings.totalCount})</span>
            ) : null}
          </h2>
          <div className="segmented" role="group" aria-label="Show">
            {LISTING_VIEWS.map((item) => (
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
        <LoadState
          fetching={listingsResult.fetching}
          hasData={Boolean(listingsResult.data)}
          error={listingsResult.error ? describeRequestError(listingsResult.error) : null}
          empty={(listings?.length ?? 0) === 0}
          emptyText="No listing here."
        />
        {listings && listings.length > 0 ? (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Grade</th>
                <th scope="col">Status</th>
                <th scope="col">Price</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {listings.map((listing) => (
                <tr
                  key={listing.id}
                  data-listing-id={listing.id}
                  className={highlighted.has(listing.id) ? "row row--changed" : "row"}
                >
                  <td data-label="Device">
                    <span className="strong">{deviceName(listing.device)}</span>
                    <span className="muted block">{deviceDetails(listing.device)}</span>
                  </td>
                  <td data-label="Grade">{gradeSummary(listing.device.currentGrade)}</td>
                  <td data-label="Status">
                    <StatusBadge status={listing.status} />
                    {pendingOffers(listing.offers) > 0 ? (
                      <span className="muted block">
                        {pendingOffers(listing.offers)} pending{" "}
                        {pendingOffers(listing.offers) === 1 ? "offer" : "offers"}
                      </span>
                    ) : null}
                  </td>
                  <td data-label="Price">
                    <RepriceForm
                      key={listing.price.amountMinor}
                      listing={listing}
                      onOutcome={report}
                    />
                  </td>
                  <td data-label="">
                    <ListingButtons listing={listing} onOutcome={report} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
      <section className="card" aria-labelledby="ready-title">
        <h2 id="ready-title">
          Ready to list
          {readyResult.data ? (
            <span className="muted"> ({readyResult.data.devices.totalCount})</span>
          ) : null}
        </h2>
        <p className="muted">Graded devices without a listing. A draft is seen by us only.</p>
        <LoadState
          fetching={readyResult.fetching}
          hasData={Boolean(readyResult.data)}
          error={readyResult.error ? describeRequestError(readyResult.error) : null}
          empty={ready.length === 0}
          emptyText="No graded device is waiting for a listing."
        />
        <ul className="cards">
          {ready.map((device) => (
            <li key={device.id} className="item" data-device-id={device.id}>
              <div className="item__main">
                <p className="item__title">
                  {deviceName(device)} <span className="muted">{deviceDetails(device)}</span>
                </p>
                <p className="muted small">
                  {gradeSummary(device.currentGrade)} · {device.client?.name ?? ""} ·{" "}
                  <span className="mono">{device.imei ?? device.serial}</span>
                </p>
              </div>
              <CreateListingForm
                deviceId={device.id}
                label={deviceName(device)}
                blockers={listingBlockers(device)}
                onOutcome={report}
              />
            </li>
          ))}
        </ul>
      </section>
    </div>
  );
}

function pendingOffers(offers: readonly { status: string; fromParty: string }[]): number {
  return offers.filter((offer) => offer.status === "PENDING").length;
}

function RepriceForm({
  listing,
  onOutcome,
}: {
  listing: BoardListingFragment;
  onOutcome: (notice: NoticeValue) => void;
}) {
  const id = useId();
  const current = minorToDecimal(listing.price.amountMinor, listing.price.currency);
  const [value, setValue] = useState(current);
  const [problem, setProblem] = useState<string | null>(null);
  const [{ fetching }, reprice] = useMutation(RepriceListingMutation);
  const mayReprice = listingActions(listing.status).includes("reprice");
  if (!mayReprice) {
    return <span className="money">{formatMoney(listing.price)}</span>;
  }
  const label = `${deviceName(listing.device)} ${deviceDetails(listing.device)}`;

  async function submit(event: FormEvent<HTMLFormElement>) {
    event.preventDefault();
    const parsed = parseMoneyInput(value, listing.price.currency);
    if (parsed.kind !== "valid" || parsed.minor === "0") {
      setProblem(parsed.kind === "invalid" ? parsed.message : "Enter a price above zero.");
      return;
    }
    setProblem(null);
    const outcome = outcomeOf(
      await reprice({
        input: { listingId: listing.id, price: parsed.minor, expectedVersion: listing.version },
      }),
      (data) => data.repriceListing,
      "ListingPayload",
    );
    onOutcome(
      outcome.kind === "done"
        ? {
            kind: "ok",
            text: `${deviceName(listing.device)} now costs ${formatMoney(outcome.value.listing.price)}.`,
          }
        : { kind: "error", text: outcome.text },
    );
  }

  return (
    <form className="inline-form" onSubmit={submit} noValidate>
      <label htmlFor={`${id}-price`} className="visually-hidden">
        Price of {label} ({listing.price.currency})
      </label>
      <input
        id={`${id}-price`}
        className="input--price"
        inputMode="decimal"
        value={value}
        aria-invalid={problem ? true : undefined}
        onChange={(event) => setValue(event.target.value)}
      />
      <button
        type="submit"
        className="button button--small button--secondary"
        disabled={fetching || value === current}
        aria-label={`Set the price of ${label}`}
      >
        Set
      </button>
      {problem ? <p className="hint hint--error">{problem}</p> : null}
    </form>
  );
}

function ListingButtons({
  listing,
  onOutcome,
}: {
  listing: BoardListingFragment;
  onOutcome: (notice: NoticeValue) => void;
}) {
  const [{ fetching: publishing }, publish] = useMutation(PublishListingMutation);
  const [{ fetching: pausing }, pause] = useMutation(PauseListingMutation);
  const [{ fetching: withdrawing }, withdraw] = useMutation(WithdrawListingMutation);
  const busy = publishing || pausing || withdrawing;
  const actions = listingActions(listing.status);
  const name = deviceName(listing.device);
  const input = { listingId: listing.id, expectedVersion: listing.version };
  const done = (text: string) => onOutcome({ kind: "ok", text });
  const refused = (text: string) => onOutcome({ kind: "error", text });
  return (
    <div className="actions__row">
      {actions.includes("publish") ? (
        <button
          type="button"
          className="button button--small"
          disabled={busy}
          aria-label={`Publish ${name}`}
          onClick={async () => {
            const outcome = outcomeOf(
              await publish({ input }),
              (data) => data.publishListing,
              "ListingPayload",
            );
            if (outcome.kind === "done") done(`${name} is on the board.`);
            else refused(outcome.text);
          }}
        >
          Publish
        </button>
      ) : null}
      {actions.includes("pause") ? (
        <button
          type="button"
          className="button button--small button--secondary"
          disabled={busy}
          aria-label={`Pause ${name}`}
          onClick={async () => {
            const outcome = outcomeOf(
              await pause({ input }),
              (data) => data.pauseListing,
              "ListingPayload",
            );
            if (outcome.kind === "done") done(`${name} is paused: off the board for now.`);
            else refused(outcome.text);
          }}
        >
          Pause
        </button>
      ) : null}
      {actions.includes("withdraw") ? (
        <button
          type="button"
          className="button button--small button--danger"
          disabled={busy}
          aria-label={`Withdraw ${name}`}
          onClick={async () => {
            const outcome = outcomeOf(
              await withdraw({ input }),
              (data) => data.withdrawListing,
              "ListingPayload",
            );
            if (outcome.kind === "done") done(`${name} is withdrawn; its offers ended.`);
            else refused(outcome.text);
          }}
        >
          Withdraw
        </button>
      ) : null}
    </div>
  );
}

function CreateListingForm({
  deviceId,
  label,
  blockers,
  onOutcome,
}: {
  deviceId: string;
  label: string;
  blockers: readonly string[];
  onOutcome: (notice: NoticeValue) => void;
}) {
  const id = useId();
  const { organization } = useViewer();
  const [price, setPrice] = useState("");
  const [problem, setProblem] = useState<string | null>(null);
  const [{ fetching: creating }, create] = useMutation(CreateListingMutation);
  const [{ fetching: publishing }, publish] = useMutation(PublishListingMutation);
  if (blockers.length > 0) {
    return <p className="muted small">Cannot be listed: {blockers.join(", ")}.</p>;
  }

  async function submit(publishNow: boolean) {
    const parsed = parseMoneyInput(price, organization.currency);
    if (parsed.kind !== "valid" || parsed.minor === "0") {
      setProblem(parsed.kind === "invalid" ? parsed.message : "Enter a price above zero.");
      return;
    }
    setProblem(null);
    const created = outcomeOf(
      await create({ input: { deviceId, price: parsed.minor } }),
      (data) => data.createListing,
      "ListingPayload",
    );
    if (created.kind !== "done") {
      onOutcome({ kind: "error", text: created.text });
      return;
    }
    const listing = created.value.listing;
    if (!publishNow) {
      onOutcome({
        kind: "ok",
        text: `Draft listing for ${label} at ${formatMoney(listing.price)}.`,
      });
      return;
    }
    const published = outcomeOf(
      await publish({ input: { listingId: listing.id, expectedVersion: listing.version } }),
      (data) => data.publishListing,
      "ListingPayload",
    );
    onOutcome(
      published.kind === "done"
        ? { kind: "ok", text: `${label} is on the board at ${formatMoney(listing.price)}.` }
        : { kind: "error", text: `The draft was created but not published: ${published.text}` },
    );
  }

  return (
    <form
      className="inline-form"
      noValidate
      onSubmit={(event) => {
        event.preventDefault();
        void submit(true);
      }}
    >
      <label htmlFor={`${id}-price`} className="visually-hidden">
        Price for {label} ({organization.currency})
      </label>
      <input
        id={`${id}-price`}
        className="input--price"
        inputMode="decimal"
        placeholder={`Price (${organization.currency})`}
        value={price}
        aria-invalid={problem ? true : undefined}
        onChange={(event) => setPrice(event.target.value)}
      />
      <button type="submit" className="button button--small" disabled={creating || publishing}>
        List now
      </button>
      <button
        type="button"
        className="button button--small button--secondary"
        disabled={creating || publishing}
        onClick={() => void submit(false)}
      >
        Save draft
      </button>
      {problem ? <p className="hint hint--error">{problem}</p> : null}
    </form>
  );
}
