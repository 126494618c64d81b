/**
 * The app's addresses: every view has a path, so a reload or a shared link opens it again
 * (the server answers every extension-less path with index.html). Pure: parse and build only.
 */

export type Route =
  | { readonly name: "home" }
  // buyers
  | { readonly name: "board" }
  | { readonly name: "listing"; readonly id: string }
  | { readonly name: "myOffers" }
  | { readonly name: "myOrders" }
  | { readonly name: "order"; readonly id: string }
  // warehouse
  | { readonly name: "devices" }
  | { readonly name: "receiving" }
  | { readonly name: "shipping" }
  // sales
  | { readonly name: "offersInbox" }
  | { readonly name: "pricing" }
  | { readonly name: "ordersDesk" }
  // clients
  | { readonly name: "portalDevices" }
  | { readonly name: "portalSales" }
  | { readonly name: "portalSettlements" }
  // finance, admin
  | { readonly name: "settlements" }
  | { readonly name: "integrations" }
  | { readonly name: "notFound"; readonly path: string };

export type RouteName = Route["name"];

const STATIC: Record<string, RouteName> = {
  "": "home",
  board: "board",
  offers: "myOffers",
  orders: "myOrders",
  devices: "devices",
  receiving: "receiving",
  shipping: "shipping",
  "sales/offers": "offersInbox",
  "sales/listings": "pricing",
  "sales/orders": "ordersDesk",
  "portal/devices": "portalDevices",
  "portal/sales": "portalSales",
  "portal/settlements": "portalSettlements",
  "finance/settlements": "settlements",
  integrations: "integrations",
};

const PATHS = Object.fromEntries(
  Object.entries(STATIC).map(([path, name]) => [name, `/${path}`]),
) as Partial<Record<RouteName, string>>;

function decode(segment: string): string | null {
  try {
    return decodeURIComponent(segment);
  } catch {
    return null;
  }
}

export function parseRoute(pathname: string): Route {
  const segments = pathname.split("/").filter((segment) => segment !== "");
  const joined = segments.join("/");
  const name = STATIC[joined];
  if (name !== undefined) {
    return { name } as Route;
  }
  if (segments.length === 2) {
    const id = decode(segments[1] ?? "");
    if (id) {
      if (segments[0] === "listings") {
        return { name: "listing", id };
      }
      if (segments[0] === "orders") {
        return { name: "order", id };
      }
    }
  }
  return { name: "notFound", path: pathname };
}

export function pathFor(route: Route): string {
  switch (route.name) {
    case "listing":
      return `/listings/${encodeURIComponent(route.id)}`;
    case "order":
      return `/orders/${encodeURIComponent(route.id)}`;
    case "notFound":
      return route.path;
    default:
      return PATHS[route.name] ?? "/";
  }
}

/** The path of a view that needs no id (the navigation's views). */
export function staticPath(name: RouteName): string {
  return PATHS[name] ?? "/";
}
