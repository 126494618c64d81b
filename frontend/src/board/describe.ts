/** How a listing's device is named and graded in a few words. */

export interface DeviceSpecs {
  readonly make: string;
  readonly model: string;
  readonly storageGb?: number | null;
  readonly colour?: string | null;
}

export function deviceName(device: DeviceSpecs): string {
  return `${device.make} ${device.model}`;
}

/** "128 GB · Midnight" */
export function deviceDetails(device: DeviceSpecs): string {
  return [device.storageGb == null ? null : `${device.storageGb} GB`, device.colour]
    .filter((part): part is string => Boolean(part))
    .join(" · ");
}

/** "iPhone 13 128 GB" style, for announcements. */
export function deviceTitle(device: DeviceSpecs): string {
  const details = deviceDetails(device);
  return details ? `${deviceName(device)}, ${details}` : deviceName(device);
}

export function gradeSummary(
  grade: { cosmetic: string; batteryHealthPct?: number | null; functionalPass?: boolean } | null,
): string {
  if (!grade) {
    return "Not graded";
  }
  const parts = [`Grade ${grade.cosmetic}`];
  if (grade.batteryHealthPct != null) {
    parts.push(`battery ${grade.batteryHealthPct}%`);
  }
  if (grade.functionalPass === false) {
    parts.push("fails a function test");
  }
  return parts.join(" · ");
}
