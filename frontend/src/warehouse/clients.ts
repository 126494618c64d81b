/** Clients known from what the warehouse already holds (the API lists no organisations). */

export interface ClientRef {
  readonly id: string;
  readonly name: string;
}

export function knownClients(
  sources: readonly ({ readonly client: ClientRef | null } | null | undefined)[],
): ClientRef[] {
  const byId = new Map<string, ClientRef>();
  for (const source of sources) {
    const client = source?.client;
    if (client && !byId.has(client.id)) {
      byId.set(client.id, { id: client.id, name: client.name });
    }
  }
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}

/** "Received 3 of 10 · 7 missing" — what a lot still lacks, or has too many of. */
export function lotProgress(lot: {
  receivedCount: number;
  expectedCount: number;
  missingCount: number;
  extraCount: number;
}): string {
  const parts = [`Received ${lot.receivedCount} of ${lot.expectedCount}`];
  if (lot.missingCount > 0) {
    parts.push(`${lot.missingCount} missing`);
  }
  if (lot.extraCount > 0) {
    parts.push(`${lot.extraCount} extra`);
  }
  if (lot.missingCount === 0 && lot.extraCount === 0) {
    parts.push("complete");
  }
  return parts.join(" · ");
}
