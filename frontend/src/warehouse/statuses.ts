import type { DeviceStatus } from "../gql/graphql";

/** Every device status in lifecycle order (the generated type lists them alphabetically). */
export const DEVICE_STATUSES = [
  "RECEIVED",
  "GRADED",
  "QUARANTINED",
  "AVAILABLE",
  "RESERVED",
  "SOLD",
  "SHIPPED",
  "DELIVERED",
] as const satisfies readonly DeviceStatus[];

type Unlisted = Exclude<DeviceStatus, (typeof DEVICE_STATUSES)[number]>;

/** Fails to type-check when the schema gains a status that the list above lacks. */
export const EVERY_STATUS_LISTED: [Unlisted] extends [never] ? true : Unlisted = true;

export function statusLabel(status: DeviceStatus): string {
  return status.charAt(0) + status.slice(1).toLowerCase();
}

export function isDeviceStatus(value: string): value is DeviceStatus {
  return (DEVICE_STATUSES as readonly string[]).includes(value);
}
