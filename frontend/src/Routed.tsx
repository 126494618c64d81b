import { BoardPage } from "./board/BoardPage";
import { ListingPage } from "./board/ListingPage";
import { PortalDevicesPage } from "./client/PortalDevicesPage";
import { PortalSalesPage } from "./client/PortalSalesPage";
import { PortalSettlementsPage } from "./client/PortalSettlementsPage";
import { SettlementsPage } from "./finance/SettlementsPage";
import { EventsPage } from "./integrations/EventsPage";
import { MyOffersPage } from "./offers/MyOffersPage";
import { MyOrdersPage } from "./orders/MyOrdersPage";
import { OrderPage } from "./orders/OrderPage";
import { OffersInboxPage } from "./sales/OffersInboxPage";
import { OrdersDeskPage } from "./sales/OrdersDeskPage";
import { PricingPage } from "./sales/PricingPage";
import { Link } from "./shared/router";
import type { Route } from "./shared/routes";
import { DevicesPage } from "./warehouse/DevicesPage";
import { ReceivingPage } from "./warehouse/ReceivingPage";
import { ShippingPage } from "./warehouse/ShippingPage";

/** The view for an address (the shell has checked that this person may open it). */
export function Routed({ route }: { route: Route }) {
  switch (route.name) {
    case "board":
      return <BoardPage />;
    case "listing":
      return <ListingPage key={route.id} id={route.id} />;
    case "myOffers":
      return <MyOffersPage />;
    case "myOrders":
      return <MyOrdersPage />;
    case "order":
      return <OrderPage key={route.id} id={route.id} />;
    case "devices":
      return <DevicesPage />;
    case "receiving":
      return <ReceivingPage />;
    case "shipping":
      return <ShippingPage />;
    case "offersInbox":
      return <OffersInboxPage />;
    case "pricing":
      return <PricingPage />;
    case "ordersDesk":
      return <OrdersDeskPage />;
    case "portalDevices":
      return <PortalDevicesPage />;
    case "portalSales":
      return <PortalSalesPage />;
    case "portalSettlements":
      return <PortalSettlementsPage />;
    case "settlements":
      return <SettlementsPage />;
    case "integrations":
      return <EventsPage />;
    case "home":
    case "notFound":
      return (
        <div className="page">
          <h1>Page not found</h1>
          <p>
            Nothing lives at this address. <Link to="/">Go to the start page</Link>.
          </p>
        </div>
      );
  }
}
