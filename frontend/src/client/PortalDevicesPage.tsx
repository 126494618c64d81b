import { useId, useMemo, useState } from "react";
import { useQuery } from "urql";

import type { DeviceStatus } from "../gql/graphql";
import { describeRequestError } from "../shared/errors";
import { useLiveEvents } from "../shared/live";
import type { LiveTopic } from "../shared/liveEvents";
import { LoadState, PageTitle } from "../shared/ui";
import { useHighlights } from "../shared/useHighlights";
import { DeviceTable } from "../warehouse/DeviceTable";
import { DevicesQuery } from "../warehouse/operations";
import { DEVICE_STATUSES, isDeviceStatus, statusLabel } from "../warehouse/statuses";

export const CLIENT_DEVICE_TOPICS: readonly LiveTopic[] = [{ entityType: "Device" }];

/** A client's devices with their status and grade, as the warehouse and the trade move them. */
export function PortalDevicesPage() {
  const id = useId();
  const [status, setStatus] = useState<DeviceStatus | null>(null);
  const variables = useMemo(
    () => ({ first: 100, filter: status ? { status: [status] } : null, sort: "NEWEST" as const }),
    [status],
  );
  const [result, reexecute] = useQuery({
    query: DevicesQuery,
    variables,
    requestPolicy: "cache-and-network",
  });
  const mode = useLiveEvents(CLIENT_DEVICE_TOPICS, () =>
    reexecute({ requestPolicy: "network-only" }),
  );
  const devices = useMemo(
    () => result.data?.devices.edges.map((edge) => edge.node) ?? null,
    [result.data],
  );
  const highlighted = useHighlights(
    devices,
    (device) => device.id,
    (device) => String(device.version),
    String(status),
  );
  const total = result.data?.devices.totalCount ?? 0;

  return (
    <div className="page">
      <PageTitle mode={mode}>My devices</PageTitle>
      <section className="card" aria-labelledby={`${id}-title`}>
        <div className="toolbar">
          <h2 id={`${id}-title`}>
            Devices in the refurbisher's care{" "}
            {result.data ? <span className="muted">({total})</span> : null}
          </h2>
          <div className="field field--inline">
            <label htmlFor={`${id}-status`}>Status</label>
            <select
              id={`${id}-status`}
              value={status ?? ""}
              onChange={(event) =>
                setStatus(isDeviceStatus(event.target.value) ? event.target.value : null)
              }
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
        <LoadState
          fetching={result.fetching}
          hasData={Boolean(result.data)}
          error={result.error ? describeRequestError(result.error) : null}
          empty={(devices?.length ?? 0) === 0}
          emptyText="No device here."
        />
        {devices && devices.length > 0 ? (
          <DeviceTable devices={devices} highlighted={highlighted} showClient={false} />
        ) : null}
      </section>
    </div>
  );
}
