/**
 * A client's sales: each sold device with the settlement line that paid it, if any. A device
 * in a VOID settlement is not settled (it may be settled again), so only live ones count.
 */

interface SettlementLike {
  readonly status: string;
  readonly lines: readonly { readonly device: { readonly id: string } | null }[];
}

export interface SaleOutcome<D, S extends SettlementLike> {
  readonly device: D;
  readonly line: S["lines"][number] | null;
  readonly settlement: S | null;
}

export function saleOutcomes<D extends { readonly id: string }, S extends SettlementLike>(
  devices: readonly D[],
  settlements: readonly S[],
): SaleOutcome<D, S>[] {
  const byDevice = new Map<string, { line: S["lines"][number]; settlement: S }>();
  for (const settlement of settlements) {
    if (settlement.status === "VOID") {
      continue;
    }
    for (const line of settlement.lines) {
      if (line.device) {
        byDevice.set(line.device.id, { line, settlement });
      }
    }
  }
  return devices.map((device) => {
    const found = byDevice.get(device.id);
    return { device, line: found?.line ?? null, settlement: found?.settlement ?? null };
  });
}
