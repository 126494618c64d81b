import type { DeviceRowFragment } from "../gql/graphql";
import { StatusBadge } from "../shared/ui";

function identifier(device: DeviceRowFragment): { label: string; value: string } {
  if (device.imei) {
    return { label: "IMEI", value: device.imei };
  }
  return { label: "Serial", value: device.serial ?? "—" };
}

interface Props {
  devices: readonly DeviceRowFragment[];
  highlighted?: ReadonlySet<string>;
  selectedId?: string | null;
  /** Offer a button per row to open the device (grade, quarantine). */
  onOpen?: (device: DeviceRowFragment) => void;
  showClient?: boolean;
}

export function DeviceTable({
  devices,
  highlighted,
  selectedId = null,
  onOpen,
  showClient = true,
}: Props) {
  return (
    <table className="table devices">
      <thead>
        <tr>
          <th scope="col">IMEI or serial</th>
          <th scope="col">Make</th>
          <th scope="col">Model</th>
          <th scope="col">Storage</th>
          <th scope="col">Grade</th>
          <th scope="col">Status</th>
          {showClient ? <th scope="col">Client</th> : null}
          {onOpen ? (
            <th scope="col">
              <span className="visually-hidden">Actions</span>
            </th>
          ) : null}
        </tr>
      </thead>
      <tbody>
        {devices.map((device) => {
          const id = identifier(device);
          const classes = [
            "row",
            highlighted?.has(device.id) ? "row--changed" : "",
            selectedId === device.id ? "row--selected" : "",
          ]
            .filter(Boolean)
            .join(" ");
          return (
            <tr key={device.id} className={classes} data-device-id={device.id}>
              <td data-label={id.label} className="mono">
                {id.value}
              </td>
              <td data-label="Make">{device.make}</td>
              <td data-label="Model">{device.model}</td>
              <td data-label="Storage">
                {device.storageGb == null ? "—" : `${device.storageGb} GB`}
              </td>
              <td data-label="Grade">{device.currentGrade ? device.currentGrade.cosmetic : "—"}</td>
              <td data-label="Status">
                <StatusBadge status={device.status} />
              </td>
              {showClient ? <td data-label="Client">{device.client?.name ?? "—"}</td> : null}
              {onOpen ? (
                <td data-label="">
                  <button
                    type="button"
                    className="button button--small button--secondary"
                    aria-label={`Open ${id.label} ${id.value}`}
                    aria-pressed={selectedId === device.id}
                    onClick={() => onOpen(device)}
                  >
                    Open
                  </button>
                </td>
              ) : null}
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
