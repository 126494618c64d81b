import { useMemo } from "react";
import { useQuery } from "urql";

import { SettlementsQuery } from "../finance/operations";
import { describeRequestError } from "../shared/errors";
import { useLiveEvents } from "../shared/live";
import type { LiveTopic } from "../shared/liveEvents";
import { formatDateTime } from "../shared/dates";
import { LoadState, Money, PageTitle, StatusBadge } from "../shared/ui";
import { useHighlights } from "../shared/useHighlights";
import { DevicesQuery } from "../warehouse/operations";
import { saleOutcomes } from "./sales";

const TOPICS: readonly LiveTopic[] = [{ entityType: "Device" }, { entityType: "Settlement" }];
const SOLD_VARIABLES = {
  first: 100,
  filter: { status: ["RESERVED", "SOLD", "SHIPPED", "DELIVERED"] as const },
  sort: "NEWEST" as const,
};

/** A client's sold devices and what each brought, once settled. Never who bought it. */
export function PortalSalesPage() {
  const [devicesResult, reexecuteDevices] = useQuery({
    query: DevicesQuery,
    variables: { ...SOLD_VARIABLES, filter: { status: [...SOLD_VARIABLES.filter.status] } },
    requestPolicy: "cache-and-network",
  });
  const [settlementsResult, reexecuteSettlements] = useQuery({
    query: SettlementsQuery,
    variables: { filter: null },
    requestPolicy: "cache-and-network",
  });
  const mode = useLiveEvents(TOPICS, () => {
    reexecuteDevices({ requestPolicy: "network-only" });
    reexecuteSettlements({ requestPolicy: "network-only" });
  });
  const rows = useMemo(
    () =>
      devicesResult.data && settlementsResult.data
        ? saleOutcomes(
            devicesResult.data.devices.edges.map((edge) => edge.node),
            settlementsResult.data.settlements.edges.map((edge) => edge.node),
          )
        : null,
    [devicesResult.data, settlementsResult.data],
  );
  const highlighted = useHighlights(
    rows,
    (row) => row.device.id,
    (row) => `${row.device.version}/${row.settlement?.status ?? ""}`,
  );
  const error = devicesResult.error ?? settlementsResult.error;

  return (
    <div className="page">
      <PageTitle mode={mode}>My sales</PageTitle>
      <section className="card" aria-labelledby="sales-title">
        <h2 id="sales-title">Sold devices</h2>
        <p className="muted">
          The amount shows once the sale is settled: the sale price, our commission and fee, and
          what you receive.
        </p>
        <LoadState
          fetching={devicesResult.fetching || settlementsResult.fetching}
          hasData={rows !== null}
          error={error ? describeRequestError(error) : null}
          empty={(rows?.length ?? 0) === 0}
          emptyText="None of your devices has been sold yet."
        />
        {rows && rows.length > 0 ? (
          <table className="table">
            <thead>
              <tr>
                <th scope="col">Device</th>
                <th scope="col">Sale</th>
                <th scope="col">Sold for</th>
                <th scope="col">You receive</th>
                <th scope="col">Settlement</th>
              </tr>
            </thead>
            <tbody>
              {rows.map(({ device, line, settlement }) => (
                <tr
                  key={device.id}
                  className={highlighted.has(device.id) ? "row row--changed" : "row"}
                  data-device-id={device.id}
                >
                  <td data-label="Device">
                    {device.make} {device.model}
                    <span className="muted block mono">{device.imei ?? device.serial}</span>
                  </td>
                  <td data-label="Sale">
                    <StatusBadge status={device.status} />
                  </td>
                  <td data-label="Sold for">{line ? <Money value={line.gross} /> : "—"}</td>
                  <td data-label="You receive">
                    {line ? <Money value={line.net} className="strong" /> : "—"}
                  </td>
                  <td data-label="Settlement">
                    {settlement ? (
                      <>
                        <StatusBadge status={settlement.status} />{" "}
                        <span className="muted small">{formatDateTime(settlement.createdAt)}</span>
                      </>
                    ) : (
                      <span className="muted">Not settled yet</span>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        ) : null}
      </section>
    </div>
  );
}
