/** API key management on the integrations page: the pure parts (scopes, checks, labels). */

import type { ApiKeyScope } from "../gql/graphql";

export const SCOPES: readonly {
  readonly scope: ApiKeyScope;
  readonly hint: string;
}[] = [
  { scope: "READ", hint: "queries" },
  { scope: "WRITE", hint: "mutations" },
  { scope: "SUBSCRIBE", hint: "the event stream" },
];

/** The scopes with `scope` on or off, always in the order READ, WRITE, SUBSCRIBE. */
export function toggleScope(
  scopes: readonly ApiKeyScope[],
  scope: ApiKeyScope,
  on: boolean,
): ApiKeyScope[] {
  const chosen = new Set(scopes);
  if (on) {
    chosen.add(scope);
  } else {
    chosen.delete(scope);
  }
  return SCOPES.map((entry) => entry.scope).filter((known) => chosen.has(known));
}

export interface NewKeyDraft {
  readonly name: string;
  readonly organizationId: string;
  readonly scopes: readonly ApiKeyScope[];
}

/** What is missing before asking the server, as a sentence and the input it is about. */
export function draftProblem(draft: NewKeyDraft): {
  readonly field: "name" | "organizationId" | "scopes";
  readonly text: string;
} | null {
  if (draft.name.trim() === "") {
    return {
      field: "name",
      text: "Give the key a name, e.g. the partner's system.",
    };
  }
  if (draft.organizationId.trim() === "") {
    return {
      field: "organizationId",
      text: "Pick the organisation the key acts for.",
    };
  }
  if (draft.scopes.length === 0) {
    return { field: "scopes", text: "Choose at least one scope." };
  }
  return null;
}

/** How a key starts, to tell keys apart: `dgk_<prefix>_…`. */
export function keyPreview(prefix: string): string {
  return `dgk_${prefix}_…`;
}

export function scopesLabel(scopes: readonly string[]): string {
  return scopes.length > 0 ? scopes.join(", ") : "—";
}

export interface OrganisationRef {
  readonly id: string;
  readonly name: string;
}

/** Every organisation named once, by name: the known clients and the keys' organisations. */
export function knownOrganisations(
  ...lists: readonly (readonly (OrganisationRef | null | undefined)[])[]
): OrganisationRef[] {
  const byId = new Map<string, OrganisationRef>();
  for (const list of lists) {
    for (const organisation of list) {
      if (organisation && !byId.has(organisation.id)) {
        byId.set(organisation.id, {
          id: organisation.id,
          name: organisation.name,
        });
      }
    }
  }
  return [...byId.values()].sort((a, b) => a.name.localeCompare(b.name));
}
