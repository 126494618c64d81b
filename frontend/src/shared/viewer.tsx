import { createContext, useContext } from "react";

import type { OrganizationKind, Role } from "../gql/graphql";
import { type Permission, can } from "./access";

export interface Viewer {
  readonly user: { readonly id: string; readonly name: string; readonly role: Role };
  readonly organization: {
    readonly id: string;
    readonly name: string;
    readonly kind: OrganizationKind;
    readonly currency: string;
  };
}

const ViewerContext = createContext<Viewer | null>(null);

export const ViewerProvider = ViewerContext.Provider;

export function useViewer(): Viewer {
  const viewer = useContext(ViewerContext);
  if (!viewer) {
    throw new Error("useViewer needs a signed-in ViewerProvider");
  }
  return viewer;
}

/** Whether the signed-in person's role allows this (a UI hint; the server decides). */
export function useCan(permission: Permission): boolean {
  const viewer = useViewer();
  return can({ role: viewer.user.role, organizationKind: viewer.organization.kind }, permission);
}
