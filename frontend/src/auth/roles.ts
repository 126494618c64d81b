import type { OrganizationKind, Role } from "../gql/graphql";

export interface ViewerRole {
  readonly role: Role;
  readonly organizationKind: OrganizationKind;
}

const RECEIVING_ROLES: ReadonlySet<Role> = new Set<Role>(["ADMIN", "WAREHOUSE"]);

/**
 * Whether to offer the Receive device form: the operator's warehouse and admin roles
 * (app/auth/policy.py). Only a hint for the UI: the server decides.
 */
export function canReceiveDevices(viewer: ViewerRole): boolean {
  return viewer.organizationKind === "OPERATOR" && RECEIVING_ROLES.has(viewer.role);
}

export function roleLabel(role: Role): string {
  return role.charAt(0) + role.slice(1).toLowerCase();
}
