import { useEffect, useId, useMemo, useState } from "react";
import { useClient, useQuery } from "urql";

import type { BoardListingFragment, ListingBoardSubscription as BoardUpdate } from "../gql/graphql";
import { describeRequestError } from "../shared/errors";
import { humanize } from "../shared/labels";
import { type LiveList, applyListUpdate, snapshotFromPage } from "../shared/liveList";
import { formatMoney, minorToDecimal } from "../shared/money";
import { Link, navigate, useLocation } from "../shared/router";
import { pathFor } from "../shared/routes";
import { LoadState, PageTitle } from "../shared/ui";
import { useLiveSubscription } from "../shared/useLiveSubscription";
import { useViewer } from "../shared/viewer";
import { deviceDetails, deviceName, deviceTitle } from "./describe";
import {
  type BoardFilters,
  GRADES,
  NO_FILTERS,
  SORTS,
  STORAGES,
  activeFilterCount,
  filtersFromSearch,
  searchFromFilters,
  toListingFilter,
} from "./filters";
import { boardVariables, compareListings, fromListingBoard } from "./liveBoard";
import { BoardQuery, ListingBoardSubscription, ListingStatusQuery } from "./operations";
import { useBoardTransitions } from "./useBoardTransitions";

const PAGE_SIZE = 100;

function entryOf(listing: BoardListingFragment) {
  return {
    id: listing.id,
    priceMinor: listing.price.amountMinor,
    grade: listing.device.currentGrade?.cosmetic ?? null,
  };
}

function describeListing(listing: BoardListingFragment): string {
  return `${deviceTitle(listing.device)} at ${formatMoney(listing.price)}`;
}

export function BoardPage() {
  const { organization } = useViewer();
  const client = useClient();
  const location = useLocation();
  const applied = useMemo(() => filtersFromSearch(location.search), [location.search]);
  const [draft, setDraft] = useState<BoardFilters>(applied);

  // The address follows the form (a moment after typing stops), and the form the address.
  useEffect(() => {
    const search = searchFromFilters(draft);
    if (search === location.search) {
      return;
    }
    const timer = window.setTimeout(() => navigate(`/board${search}`, { replace: true }), 250);
    return () => window.clearTimeout(timer);
  }, [draft, location.search]);
  useEffect(() => {
    setDraft((current) =>
      searchFromFilters(current) === searchFromFilters(applied) ? current : applied,
    );
  }, [applied]);

  const { filter, problems } = useMemo(
    () => toListingFilter(applied, organization.currency),
    [applied, organization.currency],
  );
  const variables = useMemo(() => boardVariables(filter, PAGE_SIZE), [filter]);

  // The board as the subscription keeps it: its snapshot, then each listing added, changed or
  // removed. Another filter is another subscription; until its snapshot the old list stays.
  const [board, setBoard] = useState<LiveList<BoardListingFragment> | null>(null);
  // REMOVED says which listings left, not why: ask, and show the reason while they go.
  const explainLater = (ids: readonly string[]) => {
    for (const id of ids) {
      void client
        .query(ListingStatusQuery, { id }, { requestPolicy: "network-only" })
        .toPromise()
        .then((answer) => {
          const status = answer.data?.listing?.status;
          if (status && status !== "ACTIVE") {
            transitions.explain(id, humanize(status));
          }
        });
    }
  };
  const live = useLiveSubscription(
    ListingBoardSubscription,
    variables,
    (data: BoardUpdate, key) => {
      const update = fromListingBoard(data.listingBoard);
      setBoard((current) => applyListUpdate(current, key, update));
      if (update.kind === "REMOVED") {
        explainLater(update.removedIds ?? []);
      }
    },
    () => reexecute({ requestPolicy: "network-only" }),
  );
  // While the stream is unavailable, the board query stands in (polled).
  const [result, reexecute] = useQuery({
    query: BoardQuery,
    variables: { filter, sort: applied.sort, first: PAGE_SIZE },
    requestPolicy: "network-only",
    pause: live.mode !== "polling",
  });
  const page = result.data?.listings;
  useEffect(() => {
    if (live.mode === "polling" && page) {
      setBoard((current) => applyListUpdate(current, live.key, snapshotFromPage(page)));
    }
  }, [live.mode, live.key, page]);

  const listings = useMemo(
    () => (board ? [...board.items].sort(compareListings(applied.sort)) : null),
    [board, applied.sort],
  );
  // Another filter starts over; another sort only moves the rows (their marks stay).
  const transitions = useBoardTransitions(listings, entryOf, describeListing, board?.key ?? "");
  const mode = live.mode;

  const total = board?.totalCount ?? 0;
  const shown = listings?.length ?? 0;
  const makes = useMemo(() => unique(listings?.map((item) => item.device.make)), [listings]);
  const models = useMemo(() => unique(listings?.map((item) => item.device.model)), [listings]);

  return (
    <div className="page">
      <PageTitle mode={mode}>Board</PageTitle>
      <div className="board-layout">
        <Filters
          draft={draft}
          problems={problems}
          currency={organization.currency}
          makes={makes}
          models={models}
          onChange={setDraft}
        />
        <section className="card" aria-labelledby="board-list-title">
          <div className="toolbar">
            <h2 id="board-list-title">Available devices</h2>
            <p className="muted count" aria-live="polite">
              {board
                ? shown < total
                  ? `Showing ${shown} of ${total} listings.`
                  : `${total} ${total === 1 ? "listing" : "listings"}.`
                : ""}
            </p>
          </div>
          <p className="visually-hidden" aria-live="polite">
            {transitions.announcement}
          </p>
          <LoadState
            fetching={board === null && !result.error}
            hasData={board !== null}
            error={board === null && result.error ? describeRequestError(result.error) : null}
            empty={transitions.rows.length === 0}
            emptyText={
              activeFilterCount(applied) > 0
                ? "No listing matches these filters."
                : "Nothing is for sale right now. New listings appear here as they are published."
            }
          />
          {transitions.rows.length > 0 ? (
            <table className="table board">
              <thead>
                <tr>
                  <th scope="col">Device</th>
                  <th scope="col">Grade</th>
                  <th scope="col">Price</th>
                  <th scope="col">
                    <span className="visually-hidden">Status</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {transitions.rows.map(({ row, leaving }) => {
                  const mark = transitions.marks.get(row.id);
                  const grade = row.device.currentGrade;
                  const state = leaving ? "leaving" : (mark?.kind ?? "");
                  const gradeChanged = mark?.previousGrade !== undefined;
                  const reason = transitions.reasons.get(row.id) ?? "No longer for sale";
                  return (
                    <tr
                      key={row.id}
                      data-listing-id={row.id}
                      data-state={state || undefined}
                      className={state ? `row row--${state}` : "row"}
                      aria-hidden={leaving || undefined}
                    >
                      <td data-label="Device">
                        {leaving ? (
                          <span className="strong">{deviceName(row.device)}</span>
                        ) : (
                          <Link className="strong" to={pathFor({ name: "listing", id: row.id })}>
                            {deviceName(row.device)}
                          </Link>
                        )}
                        <span className="muted block">{deviceDetails(row.device)}</span>
                      </td>
                      <td data-label="Grade">
                        <span className={gradeChanged ? "changed" : undefined}>
                          {grade ? `Grade ${grade.cosmetic}` : "Not graded"}
                        </span>
                        {gradeChanged ? (
                          <span className="was"> was {mark?.previousGrade ?? "ungraded"}</span>
                        ) : null}
                        {grade?.batteryHealthPct != null ? (
                          <span className="muted block">Battery {grade.batteryHealthPct}%</span>
                        ) : null}
                      </td>
                      <td data-label="Price">
                        <span className={mark?.previousPriceMinor ? "money changed" : "money"}>
                          {formatMoney(row.price)}
                        </span>
                        {mark?.previousPriceMinor ? (
                          <s className="was">
                            {formatMoney({
                              amount: minorToDecimal(mark.previousPriceMinor, row.price.currency),
                              currency: row.price.currency,
                            })}
                          </s>
                        ) : null}
                      </td>
                      <td data-label="Status">
                        {leaving ? (
                          <span className="badge badge--warn">{reason}</span>
                        ) : mark?.kind === "new" ? (
                          <span className="badge badge--info">New</span>
                        ) : mark ? (
                          <span className="badge badge--info">Changed</span>
                        ) : null}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          ) : null}
        </section>
      </div>
    </div>
  );
}

function unique(values: readonly string[] | undefined): string[] {
  return [...new Set(values ?? [])].sort((a, b) => a.localeCompare(b));
}

interface FiltersProps {
  draft: BoardFilters;
  problems: Partial<Record<string, string>>;
  currency: string;
  makes: readonly string[];
  models: readonly string[];
  onChange: (next: BoardFilters) => void;
}

function Filters({ draft, problems, currency, makes, models, onChange }: FiltersProps) {
  const id = useId();
  const set = <K extends keyof BoardFilters>(key: K, value: BoardFilters[K]) =>
    onChange({ ...draft, [key]: value });
  const count = activeFilterCount(draft);
  // Open beside the list on a wide screen; folded above it on a phone.
  const [open, setOpen] = useState(() => window.matchMedia("(min-width: 52rem)").matches);
  return (
    <details
      className="card filters"
      open={open}
      onToggle={(event) => setOpen(event.currentTarget.open)}
    >
      <summary>
        <div className="toolbar">
          <h2 id={`${id}-title`}>Filters{count > 0 ? ` (${count})` : ""}</h2>
        </div>
      </summary>
      {count > 0 ? (
        <button
          type="button"
          className="button button--link filters__clear"
          onClick={() => onChange({ ...NO_FILTERS, sort: draft.sort })}
        >
          Clear filters
        </button>
      ) : null}
      <form className="filters__grid" role="search" onSubmit={(event) => event.preventDefault()}>
        <div className="field filters__wide">
          <label htmlFor={`${id}-text`}>Search</label>
          <input
            id={`${id}-text`}
            type="search"
            value={draft.text}
            placeholder="Make, model or colour"
            onChange={(event) => set("text", event.target.value)}
          />
        </div>
        <div className="field">
          <label htmlFor={`${id}-make`}>Make</label>
          <input
            id={`${id}-make`}
            list={`${id}-makes`}
            value={draft.make}
            autoComplete="off"
            onChange={(event) => set("make", event.target.value)}
          />
          <datalist id={`${id}-makes`}>
            {makes.map((make) => (
              <option key={make} value={make} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor={`${id}-model`}>Model</label>
          <input
            id={`${id}-model`}
            list={`${id}-models`}
            value={draft.model}
            autoComplete="off"
            onChange={(event) => set("model", event.target.value)}
          />
          <datalist id={`${id}-models`}>
            {models.map((model) => (
              <option key={model} value={model} />
            ))}
          </datalist>
        </div>
        <div className="field">
          <label htmlFor={`${id}-storage`}>Storage</label>
          <select
            id={`${id}-storage`}
            value={draft.storageGb}
            onChange={(event) => set("storageGb", event.target.value)}
          >
            <option value="">Any</option>
            {STORAGES.map((storage) => (
              <option key={storage} value={String(storage)}>
                {storage} GB
              </option>
            ))}
          </select>
        </div>
        <fieldset className="field grades">
          <legend>Grade</legend>
          <div className="grades__options">
            {GRADES.map((grade) => (
              <label key={grade} className="check">
                <input
                  type="checkbox"
                  checked={draft.grades.includes(grade)}
                  onChange={(event) =>
                    set(
                      "grades",
                      event.target.checked
                        ? [...draft.grades, grade]
                        : draft.grades.filter((item) => item !== grade),
                    )
                  }
                />
                {grade}
              </label>
            ))}
          </div>
        </fieldset>
        <PriceField
          id={`${id}-min`}
          label={`Price from (${currency})`}
          value={draft.priceMin}
          problem={problems["priceMin"]}
          onChange={(value) => set("priceMin", value)}
        />
        <PriceField
          id={`${id}-max`}
          label={`Price up to (${currency})`}
          value={draft.priceMax}
          problem={problems["priceMax"]}
          onChange={(value) => set("priceMax", value)}
        />
        <div className="field">
          <label htmlFor={`${id}-sort`}>Sort</label>
          <select
            id={`${id}-sort`}
            value={draft.sort}
            onChange={(event) =>
              set(
                "sort",
                SORTS.find((sort) => sort.value === event.target.value)?.value ?? "NEWEST",
              )
            }
          >
            {SORTS.map((sort) => (
              <option key={sort.value} value={sort.value}>
                {sort.label}
              </option>
            ))}
          </select>
        </div>
      </form>
    </details>
  );
}

function PriceField(props: {
  id: string;
  label: string;
  value: string;
  problem: string | undefined;
  onChange: (value: string) => void;
}) {
  return (
    <div className="field">
      <label htmlFor={props.id}>{props.label}</label>
      <input
        id={props.id}
        inputMode="decimal"
        autoComplete="off"
        value={props.value}
        aria-invalid={props.problem ? true : undefined}
        aria-describedby={props.problem ? `${props.id}-problem` : undefined}
        onChange={(event) => props.onChange(event.target.value)}
      />
      {props.problem ? (
        <p id={`${props.id}-problem`} className="hint hint--error">
          {props.problem}
        </p>
      ) : null}
    </div>
  );
}
