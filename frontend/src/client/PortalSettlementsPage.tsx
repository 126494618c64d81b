import { useEffect, useState } from "react";
import { useQuery } from "urql";

import { SettlementsQuery } from "../finance/operations";
import { SettlementHeading, SettlementLines, SettlementTotals } from "../finance/SettlementView";
import { describeRequestError } from "../shared/errors";
import type {
  SettlementDetailFragment,
  SettlementsLiveSubscription as SettlementsLiveResult,
} from "../gql/graphql";
import { type LiveList, applyListUpdate, snapshotFromPage } from "../shared/liveList";
import { LoadState, PageTitle } from "../shared/ui";
import { useHighlights } from "../shared/useHighlights";
import { useLiveSubscription } from "../shared/useLiveSubscription";
import { SettlementsLiveSubscription } from "./operations";

const FIRST = 100;

/** A client's settlements with their lines, as finance generates, approves and pays them. */
export function PortalSettlementsPage() {
  // The settlements as the subscription keeps them: newest first, each change in place.
  const [list, setList] = useState<LiveList<SettlementDetailFragment> | null>(null);
  const stream = useLiveSubscription(
    SettlementsLiveSubscription,
    { first: FIRST },
    (data: SettlementsLiveResult, key) =>
      setList((current) =>
        applyListUpdate(current, key, {
          kind: data.settlements.kind,
          items: data.settlements.settlements,
          cursor: data.settlements.cursor,
          hasMore: data.settlements.hasMore,
        }),
      ),
    () => reexecute({ requestPolicy: "network-only" }),
  );
  // While the stream is unavailable, the query stands in (polled).
  const [result, reexecute] = useQuery({
    query: SettlementsQuery,
    variables: { filter: null },
    requestPolicy: "network-only",
    pause: stream.mode !== "polling",
  });
  const page = result.data?.settlements;
  useEffect(() => {
    if (stream.mode === "polling" && page) {
      setList((current) => applyListUpdate(current, stream.key, snapshotFromPage(page)));
    }
  }, [stream.mode, stream.key, page]);
  const mode = stream.mode;
  const settlements = list?.items ?? null;
  const highlighted = useHighlights(
    settlements,
    (settlement) => settlement.id,
    (settlement) => String(settlement.version),
  );
  // The newest settlement shows its lines; the others on request.
  const [expanded, setExpanded] = useState<ReadonlyMap<string, boolean>>(new Map());

  return (
    <div className="page">
      <PageTitle mode={mode}>My settlements</PageTitle>
      <LoadState
        fetching={list === null && !result.error}
        hasData={list !== null}
        error={list === null && result.error ? describeRequestError(result.error) : null}
        empty={(settlements?.length ?? 0) === 0}
        emptyText="No settlement yet: one is made for the devices delivered in a period."
      />
      <ul className="cards cards--wide">
        {settlements?.map((settlement, index) => {
          const open = expanded.get(settlement.id) ?? index === 0;
          return (
            <li
              key={settlement.id}
              className={
                highlighted.has(settlement.id)
                  ? "item item--changed item--column card"
                  : "item item--column card"
              }
              data-settlement-id={settlement.id}
            >
              <div className="toolbar">
                <h2 className="h3">
                  <SettlementHeading settlement={settlement} />
                </h2>
                <button
                  type="button"
                  className="button button--small button--secondary"
                  aria-expanded={open}
                  aria-controls={`lines-${settlement.id}`}
                  onClick={() =>
                    setExpanded((current) => new Map(current).set(settlement.id, !open))
                  }
                >
                  {open ? "Hide lines" : "Show lines"}
                </button>
              </div>
              <SettlementTotals settlement={settlement} />
              {open ? (
                <div id={`lines-${settlement.id}`}>
                  <SettlementLines settlement={settlement} />
                </div>
              ) : null}
            </li>
          );
        })}
      </ul>
    </div>
  );
}
