import { useId, useMemo, useState } from "react";
import { useQuery } from "urql";

import type { DeviceStatus } from "../gql/graphql";
import { describeRequestError } from "../shared/errors";
import { useLiveEvents } from "../shared/live";
import type { LiveTopic } from "../shared/liveEvents";
import { PageTitle } from "../shared/ui";
import { useHighlights } from "../shared/useHighlights";
import { useCan } from "../shared/viewer";
import { DevicePanel } from "./DevicePanel";
import { DeviceTable } from "./DeviceTable";
import { DevicesQuery } from "./operations";
import { ReceiveDeviceForm } from "./ReceiveDeviceForm";
import { DEVICE_STATUSES, isDeviceStatus, statusLabel } from "./statuses";

const PAGE_SIZE = 50;
const TOPICS: readonly LiveTopic[] = [{ entityType: "Device" }];

/** Every device in the warehouse, live; the warehouse grades and quarantines from here. */
export function DevicesPage() {
  const canReceive = useCan("receiveDevices");
  const canGrade = useCan("gradeDevices");
  const [status, setStatus] = useState<DeviceStatus | null>(null);
  const [search, setSearch] = useState("");
  const [selectedId, setSelectedId] = useState<string | null>(null);
  const filterId = useId();
  const variables = useMemo(() => {
    const filter = {
      ...(status ? { status: [status] } : {}),
      ...(search.trim() ? { search: search.trim() } : {}),
    };
    return {
      first: PAGE_SIZE,
      filter: Object.keys(filter).length > 0 ? filter : null,
      sort: "NEWEST" as const,
    };
  }, [status, search]);
  // `Device` makes a receiveDevice refetch the list even while the list is empty.
  const context = useMemo(() => ({ additionalTypenames: ["Device"] }), []);
  const [result, reexecute] = useQuery({
    query: DevicesQuery,
    variables,
    context,
    requestPolicy: "cache-and-network",
  });
  const refresh = () => reexecute({ requestPolicy: "network-only" });
  const mode = useLiveEvents(TOPICS, refresh);
  const devices = useMemo(
    () => result.data?.devices.edges.map((edge) => edge.node) ?? null,
    [result.data],
  );
  const highlighted = useHighlights(
    devices,
    (device) => device.id,
    (device) => String(device.version),
    JSON.stringify(variables),
  );
  const total = result.data?.devices.totalCount ?? 0;
  const shown = devices ?? [];
  const selected = shown.find((device) => device.id === selectedId) ?? null;
  const side = canReceive || (canGrade && selected);

  return (
    <div className="page">
      <PageTitle mode={mode}>Devices</PageTitle>
      <div className={side ? "page__grid" : "page__grid page__grid--single"}>
        <section className="card page__list" aria-labelledby="device-list-title">
          <div className="toolbar">
            <h2 id="device-list-title">In the warehouse</h2>
            <div className="toolbar__controls">
              <div className="field field--inline">
                <label htmlFor={`${filterId}-search`}>Search</label>
                <input
                  id={`${filterId}-search`}
                  type="search"
                  value={search}
                  placeholder="IMEI, serial, model"
                  onChange={(event) => setSearch(event.target.value)}
                />
              </div>
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
          </div>
          {result.error ? (
            <p className="notice notice--error" role="alert">
              {describeRequestError(result.error)}
            </p>
          ) : null}
          {result.fetching && !result.data ? <p className="muted">Loading devices…</p> : null}
          {result.data && shown.length === 0 ? (
            <p className="muted">
              {status ? `No device is ${statusLabel(status).toLowerCase()}.` : "No device yet."}
            </p>
          ) : null}
          {shown.length > 0 ? (
            <>
              <DeviceTable
                devices={shown}
                highlighted={highlighted}
                selectedId={selectedId}
                {...(canGrade ? { onOpen: (device) => setSelectedId(device.id) } : {})}
              />
              <p className="muted count" aria-live="polite">
                {shown.length < total
                  ? `Showing the first ${shown.length} of ${total} devices.`
                  : `${total} ${total === 1 ? "device" : "devices"}.`}
              </p>
            </>
          ) : null}
        </section>
        {side ? (
          <div className="stack page__form">
            {canGrade && selected ? (
              <DevicePanel
                key={selected.id}
                device={selected}
                onClose={() => setSelectedId(null)}
                onChanged={refresh}
              />
            ) : null}
            {canReceive ? <ReceiveDeviceForm /> : null}
          </div>
        ) : null}
      </div>
    </div>
  );
}
