import { useMemo, useState } from "react";
import { useQuery } from "urql";

import { SettlementsQuery } from "../finance/operations";
import { SettlementHeading, SettlementLines, SettlementTotals } from "../finance/SettlementView";
import { describeRequestError } from "../shared/errors";
import { useLiveEvents } from "../shared/live";
import type { LiveTopic } from "../shared/liveEvents";
import { LoadState, PageTitle } from "../shared/ui";
import { useHighlights } from "../shared/useHighlights";

const TOPICS: readonly LiveTopic[] = [{ entityType: "Settlement" }];

/** A client's settlements with their lines, as finance generates, approves and pays them. */
export function PortalSettlementsPage() {
  const [result, reexecute] = useQuery({
    query: SettlementsQuery,
    variables: { filter: null },
    requestPolicy: "cache-and-network",
  });
  const mode = useLiveEvents(TOPICS, () => reexecute({ requestPolicy: "network-only" }));
  const settlements = useMemo(
    () => result.data?.settlements.edges.map((edge) => edge.node) ?? null,
    [result.data],
  );
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
        fetching={result.fetching}
        hasData={Boolean(result.data)}
        error={result.error ? describeRequestError(result.error) : null}
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
