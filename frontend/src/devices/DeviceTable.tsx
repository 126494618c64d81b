import type { DeviceRowFragment } from "../gql/graphql";
import { statusLabel } from "./statuses";

function identifier(device: DeviceRowFragment): { label: string; value: string } {
  if (device.imei) {
    return { label: "IMEI", value: device.imei };
  }
  return { label: "Serial", value: device.serial ?? "—" };
}

export function DeviceTable({ devices }: { devices: readonly DeviceRowFragment[] }) {
  return (
    <table className="devices">
      <thead>
        <tr>
          <th scope="col">IMEI or serial</th>
          <th scope="col">Make</th>
          <th scope="col">Model</th>
          <th scope="col">Storage</th>
          <th scope="col">Status</th>
          <th scope="col">Client</th>
        </tr>
      </thead>
      <tbody>
        {devices.map((device) => {
          const id = identifier(device);
          return (
            <tr key={device.id}>
              <td data-label={id.label} className="mono">
                {id.value}
              </td>
              <td data-label="Make">{device.make}</td>
              <td data-label="Model">{device.model}</td>
              <td data-label="Storage">
                {device.storageGb == null ? "—" : `${device.storageGb} GB`}
              </td>
              <td data-label="Status">
                <span className={`badge badge--${device.status.toLowerCase()}`}>
                  {statusLabel(device.status)}
                </span>
              </td>
              <td data-label="Client">{device.client?.name ?? "—"}</td>
            </tr>
          );
        })}
      </tbody>
    </table>
  );
}
