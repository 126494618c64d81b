/**
 * Who may do what, as the server decides it (app/auth/policy.py), and which views each person
 * is offered. Only a guide for the UI: the server refuses anything else anyway.
 */

import type { OrganizationKind, Role } from "../gql/graphql";
import type { RouteName } from "./routes";

export interface ViewerRole {
  readonly role: Role;
  readonly organizationKind: OrganizationKind;
}

export type Permission =
  | "receiveDevices"
  | "gradeDevices"
  | "manageLots"
  | "shipOrders"
  | "manageListings"
  | "answerOffers"
  | "manageOrders"
  | "settle"
  | "makeOffers"
  | "buy";

const ALL: readonly Permission[] = [
  "receiveDevices",
  "gradeDevices",
  "manageLots",
  "shipOrders",
  "manageListings",
  "answerOffers",
  "manageOrders",
  "settle",
];

const OPERATOR_ROLES: Partial<Record<Role, readonly Permission[]>> = {
  ADMIN: ALL,
  WAREHOUSE: ["receiveDevices", "gradeDevices", "manageLots", "shipOrders"],
  SALES: ["manageListings", "answerOffers", "manageOrders"],
  FINANCE: ["settle", "manageOrders"],
  VIEWER: [],
};

export function permissionsOf(viewer: ViewerRole): ReadonlySet<Permission> {
  switch (viewer.organizationKind) {
    case "OPERATOR":
      return new Set(OPERATOR_ROLES[viewer.role] ?? []);
    case "BUYER":
      return new Set<Permission>(viewer.role === "BUYER" ? ["makeOffers", "buy"] : []);
    case "CLIENT":
      return new Set();
  }
}

export function can(viewer: ViewerRole, permission: Permission): boolean {
  return permissionsOf(viewer).has(permission);
}

export interface NavItem {
  readonly route: RouteName;
  readonly label: string;
}

const BUYER_NAV: readonly NavItem[] = [
  { route: "board", label: "Board" },
  { route: "myOffers", label: "My offers" },
  { route: "myOrders", label: "My orders" },
];

const CLIENT_NAV: readonly NavItem[] = [
  { route: "portalDevices", label: "My devices" },
  { route: "portalSales", label: "My sales" },
  { route: "portalSettlements", label: "My settlements" },
];

const OPERATOR_NAV: readonly (NavItem & { readonly needs: Permission | "admin" | null })[] = [
  { route: "devices", label: "Devices", needs: null },
  { route: "receiving", label: "Receiving", needs: "manageLots" },
  { route: "shipping", label: "Shipping", needs: "shipOrders" },
  { route: "offersInbox", label: "Offers", needs: "answerOffers" },
  { route: "pricing", label: "Listings", needs: "manageListings" },
  { route: "ordersDesk", label: "Orders", needs: "manageOrders" },
  { route: "settlements", label: "Settlements", needs: "settle" },
  { route: "integrations", label: "Integrations", needs: "admin" },
];

/** The views offered to a person, in the order of the navigation; the first is home. */
export function navFor(viewer: ViewerRole): readonly NavItem[] {
  switch (viewer.organizationKind) {
    case "BUYER":
      return BUYER_NAV;
    case "CLIENT":
      return CLIENT_NAV;
    case "OPERATOR": {
      const granted = permissionsOf(viewer);
      const items = OPERATOR_NAV.filter(
        (item) =>
          item.needs === null ||
          (item.needs === "admin" ? viewer.role === "ADMIN" : granted.has(item.needs)),
      ).map(({ route, label }) => ({ route, label }));
      // Each role starts where its work is: sales on its offers, finance on settlements.
      const home: Partial<Record<Role, RouteName>> = {
        SALES: "offersInbox",
        FINANCE: "settlements",
      };
      const first = home[viewer.role];
      const start = items.find((item) => item.route === first);
      return start ? [start, ...items.filter((item) => item !== start)] : items;
    }
  }
}

export function homeRoute(viewer: ViewerRole): RouteName {
  return navFor(viewer)[0]?.route ?? "devices";
}

/** Whether the person may open a view at all (the navigation's views, and their details). */
export function mayOpen(viewer: ViewerRole, route: RouteName): boolean {
  const allowed = new Set<RouteName>(navFor(viewer).map((item) => item.route));
  if (allowed.has("board")) {
    allowed.add("listing");
  }
  if (allowed.has("myOrders")) {
    allowed.add("order");
  }
  return route === "home" || allowed.has(route);
}
