import { useId, useMemo, useState } from "react";
import { useQuery } from "urql";

import type { DeviceStatus } from "../gql/graphql";
import { describeRequestError } from "../lib/errors";
import { DeviceTable } from "./DeviceTable";
import { DevicesQuery } from "./operations";
import { ReceiveDeviceForm } from "./ReceiveDeviceForm";
import { DEVICE_STATUSES, isDeviceStatus, statusLabel } from "./statuses";

const PAGE_SIZE = 50;

export function DevicesPage({ canReceive }: { canReceive: boolean }) {
  const [status, setStatus] = useState<DeviceStatus | null>(null);
  const filterId = useId();
  // `Device` makes a receiveDevice refetch the list even while the list is empty.
  const context = useMemo(() => ({ additionalTypenames: ["Device"] }), []);
  const [result] = useQuery({
    query: DevicesQuery,
    variables: { first: PAGE_SIZE, filter: status ? { status: [status] } : null },
    context,
  });
  const devices = result.data?.devices.edges.map((edge) => edge.node) ?? [];
  const total = result.data?.devices.totalCount ?? 0;

  return (
    <div className="page">
      <h1>Devices</h1>
      <div className={canReceive ? "page__grid" : "page__grid page__grid--single"}>
        <section className="card page__list" aria-labelledby="device-list-title">
          <div className="toolbar">
            <h2 id="device-list-title">In the warehouse</h2>
            <div className="field field--inline">
              <label htmlFor={filterId}>Status</label>
              <select
                id={filterId}
                value={status ?? ""}
                onChange={(event) => {
                  const value = event.target.value;
                  setStatus(isDeviceStatus(value) ? value : null);
                }}
              >
                <option value="">All statuses</option>
                {DEVICE_STATUSES.map((value) => (
                  <option key={value} value={value}>
                    {statusLabel(value)}
                  </option>
                ))}
              </select>
            </div>
          </div>
          {result.error ? (
            <p className="notice notice--error" role="alert">
              {describeRequestError(result.error)}
            </p>
          ) : null}
          {result.fetching && !result.data ? <p className="muted">Loading devices…</p> : null}
          {result.data && devices.length === 0 ? (
            <p className="muted">
              {status ? `No device is ${statusLabel(status).toLowerCase()}.` : "No device yet."}
            </p>
          ) : null}
          {devices.length > 0 ? (
            <>
              <DeviceTable devices={devices} />
              <p className="muted count" aria-live="polite">
                {devices.length < total
                  ? `Showing the first ${devices.length} of ${total} devices.`
                  : `${total} ${total === 1 ? "device" : "devices"}.`}
              </p>
            </>
          ) : null}
        </section>
        {canReceive ? <ReceiveDeviceForm /> : null}
      </div>
    </div>
  );
}
