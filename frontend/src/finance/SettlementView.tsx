import type { SettlementDetailFragment } from "../gql/graphql";
import { formatDay } from "../shared/dates";
import { Money, StatusBadge } from "../shared/ui";

export function periodLabel(settlement: { periodStart: string; periodEnd: string }): string {
  return `${formatDay(settlement.periodStart)} – ${formatDay(settlement.periodEnd)}`;
}

export function SettlementTotals({ settlement }: { settlement: SettlementDetailFragment }) {
  const { totals } = settlement;
  return (
    <dl className="totals">
      <div>
        <dt>Gross</dt>
        <dd>
          <Money value={totals.gross} />
        </dd>
      </div>
      <div>
        <dt>Commission</dt>
        <dd>
          <Money value={totals.commission} />
        </dd>
      </div>
      <div>
        <dt>Fees</dt>
        <dd>
          <Money value={totals.fees} />
        </dd>
      </div>
      <div>
        <dt>Net to client</dt>
        <dd className="strong" data-testid="settlement-net">
          <Money value={totals.net} />
        </dd>
      </div>
    </dl>
  );
}

export function SettlementLines({ settlement }: { settlement: SettlementDetailFragment }) {
  return (
    <table className="table lines-table">
      <caption className="visually-hidden">Settlement lines</caption>
      <thead>
        <tr>
          <th scope="col">Device</th>
          <th scope="col">Gross</th>
          <th scope="col">Commission</th>
          <th scope="col">Fees</th>
          <th scope="col">Net</th>
        </tr>
      </thead>
      <tbody>
        {settlement.lines.map((line) => (
          <tr key={line.id}>
            <td data-label="Device">
              {line.device ? `${line.device.make} ${line.device.model}` : "—"}
              <span className="muted block mono">
                {line.device?.imei ?? line.device?.serial ?? ""}
              </span>
            </td>
            <td data-label="Gross">
              <Money value={line.gross} />
            </td>
            <td data-label="Commission">
              <Money value={line.commission} />
            </td>
            <td data-label="Fees">
              <Money value={line.fees} />
            </td>
            <td data-label="Net" className="strong">
              <Money value={line.net} />
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function SettlementHeading({ settlement }: { settlement: SettlementDetailFragment }) {
  return (
    <>
      <span className="strong">{periodLabel(settlement)}</span>{" "}
      <StatusBadge status={settlement.status} />{" "}
      <span className="muted">
        · {settlement.lineCount} {settlement.lineCount === 1 ? "device" : "devices"} · net{" "}
        <Money value={settlement.totals.net} />
      </span>
    </>
  );
}
