"""What the browser tests of the trade share: the parties, the API as each of them, signing
in through the app's form, holding a page's websocket, and a clock for "A's click reached B".

Data is built through the API (GraphQL with each person's token), as the apps would, except
the parties themselves and listed devices, which tests.support.trade writes with the ORM.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from strawberry.relay import GlobalID

from app.domain.statuses import Role
from app.models import Listing
from tests.support.auth import PASSWORD, create_person, token_for
from tests.support.trade import World, create_world

if TYPE_CHECKING:
    from playwright.async_api import Locator, Page, WebSocketRoute

    from tests.support.auth import Person
    from tests.support.graphql import GraphQLClient

Sessions = async_sessionmaker[AsyncSession]


def gid(type_name: str, row_id: int) -> str:
    return str(GlobalID(type_name, str(row_id)))


def row_id(global_id: str) -> int:
    return int(GlobalID.from_id(global_id).node_id)


# --- The parties and the API as each of them ---------------------------------------------------


@dataclass
class Trade:
    """A world of parties (tests.support.trade) plus finance, with a token for each person."""

    world: World
    finance: Person
    graphql: GraphQLClient
    tokens: dict[int, str] = field(default_factory=dict)

    @property
    def client_id(self) -> str:
        return gid("Organization", self.world.client.id)

    async def call(
        self, sessions: Sessions, person: Person, query: str, variables: dict[str, Any]
    ) -> dict[str, Any]:
        """The operation's data as ``person``; GraphQL errors fail the test."""
        token = self.tokens.get(person.user.id)
        if token is None:
            token = await token_for(sessions, person)
            self.tokens[person.user.id] = token
        payload = await self.graphql(query, variables, headers={"Authorization": f"Bearer {token}"})
        assert "errors" not in payload, payload
        data: dict[str, Any] = payload["data"]
        return data


async def open_trade(sessions: Sessions, graphql: GraphQLClient) -> Trade:
    world = await create_world(sessions)
    finance = await create_person(sessions, world.operator, Role.FINANCE)
    return Trade(world=world, finance=finance, graphql=graphql)


def ok(data: dict[str, Any], field_name: str, typename: str) -> dict[str, Any]:
    """The payload of a mutation result that must have succeeded."""
    result: dict[str, Any] = data[field_name]
    assert result["__typename"] == typename, result
    return result


BUY = """
mutation Buy($input: BuyListingsInput!) {
  buyListings(input: $input) {
    __typename
    ... on BuyListingsPayload { order { id version } }
    ... on Error { code message }
  }
}
"""
CONFIRM = """
mutation Confirm($input: ConfirmOrderInput!) {
  confirmOrder(input: $input) {
    __typename
    ... on ConfirmOrderPayload { order { id version } }
    ... on Error { code message }
  }
}
"""
SHIP = """
mutation Ship($input: ShipOrderInput!) {
  shipOrder(input: $input) {
    __typename
    ... on ShipOrderPayload { order { id version } }
    ... on Error { code message }
  }
}
"""
DELIVER = """
mutation Deliver($input: MarkDeliveredInput!) {
  markDelivered(input: $input) {
    __typename
    ... on MarkDeliveredPayload { order { id status } }
    ... on Error { code message }
  }
}
"""
MAKE_OFFER = """
mutation Offer($input: MakeOfferInput!) {
  makeOffer(input: $input) {
    __typename
    ... on OfferPayload { offer { id version } }
    ... on Error { code message }
  }
}
"""
COUNTER = """
mutation Counter($input: CounterOfferInput!) {
  counterOffer(input: $input) {
    __typename
    ... on CounterOfferPayload { offer { id } }
    ... on Error { code message }
  }
}
"""
REPRICE = """
mutation Reprice($input: RepriceListingInput!) {
  repriceListing(input: $input) {
    __typename
    ... on ListingPayload { listing { id version } }
    ... on Error { code message }
  }
}
"""
CREATE_LISTING = """
mutation Create($input: CreateListingInput!) {
  createListing(input: $input) {
    __typename
    ... on ListingPayload { listing { id version } }
    ... on Error { code message }
  }
}
"""
PUBLISH = """
mutation Publish($input: ListingActionInput!) {
  publishListing(input: $input) {
    __typename
    ... on ListingPayload { listing { id version } }
    ... on Error { code message }
  }
}
"""
GRADE = """
mutation Grade($input: RecordGradeInput!) {
  recordGrade(input: $input) {
    __typename
    ... on RecordGradePayload { device { id version } }
    ... on Error { code message }
  }
}
"""


async def buy(trade: Trade, sessions: Sessions, buyer: Person, listing: Listing) -> str:
    data = await trade.call(
        sessions, buyer, BUY, {"input": {"listingIds": [gid("Listing", listing.id)]}}
    )
    order_id: str = ok(data, "buyListings", "BuyListingsPayload")["order"]["id"]
    return order_id


async def confirm(trade: Trade, sessions: Sessions, order_id: str) -> None:
    data = await trade.call(sessions, trade.world.sales, CONFIRM, {"input": {"orderId": order_id}})
    ok(data, "confirmOrder", "ConfirmOrderPayload")


async def ship(trade: Trade, sessions: Sessions, order_id: str, tracking: str) -> None:
    data = await trade.call(
        sessions,
        trade.world.warehouse,
        SHIP,
        {"input": {"orderId": order_id, "carrier": "DHL", "trackingNumber": tracking}},
    )
    ok(data, "shipOrder", "ShipOrderPayload")


async def deliver(trade: Trade, sessions: Sessions, order_id: str) -> None:
    data = await trade.call(
        sessions, trade.world.warehouse, DELIVER, {"input": {"orderId": order_id}}
    )
    ok(data, "markDelivered", "MarkDeliveredPayload")


async def sell_and_deliver(
    trade: Trade, sessions: Sessions, listing: Listing, tracking: str = "1Z999AA10123456784"
) -> str:
    """Buyer A buys the listing; sales confirms; the warehouse ships and delivers it."""
    order_id = await buy(trade, sessions, trade.world.buyer_a, listing)
    await confirm(trade, sessions, order_id)
    await ship(trade, sessions, order_id, tracking)
    await deliver(trade, sessions, order_id)
    return order_id


async def make_offer(
    trade: Trade, sessions: Sessions, buyer: Person, listing: Listing, amount_minor: int
) -> str:
    data = await trade.call(
        sessions,
        buyer,
        MAKE_OFFER,
        {"input": {"listingId": gid("Listing", listing.id), "amount": str(amount_minor)}},
    )
    offer_id: str = ok(data, "makeOffer", "OfferPayload")["offer"]["id"]
    return offer_id


# --- The browser ---------------------------------------------------------------------------------


async def sign_in(page: Page, base_url: str, person: Person, heading: str) -> None:
    """Sign in through the form with the shared test password; wait for the role's home."""
    from playwright.async_api import expect

    await page.goto(f"{base_url}/")
    await page.get_by_label("Email").fill(person.user.email)
    await page.get_by_label("Password").fill(PASSWORD)
    await page.get_by_role("button", name="Sign in").click()
    await expect(page.get_by_role("heading", name=heading, exact=True, level=1)).to_be_visible()
    await expect(page.locator(".connection")).to_have_attribute("data-status", "live")


async def go(page: Page, view: str) -> None:
    """Open a view from the main navigation."""
    await page.get_by_role("navigation", name="Main").get_by_role("link", name=view).click()


def status(page: Page, text: str) -> Locator:
    """The status message (role=status) that says ``text``."""
    return page.get_by_role("status").filter(has_text=text)


async def no_sideways_scroll(page: Page) -> None:
    overflow = await page.evaluate(
        "document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"


async def mark_page(page: Page) -> None:
    """A marker that a reload (or a navigation away) would lose."""
    await page.evaluate("window.__noReload = true")


async def was_not_reloaded(page: Page) -> bool:
    return bool(await page.evaluate("window.__noReload === true"))


class SocketGate:
    """Holds a page's websocket to the API: drop it, keep it down, let it back, or delay what
    the server sends (a slow connection). Install with ``await gate.install(page)`` before
    ``page.goto``."""

    def __init__(self) -> None:
        self.up = True
        self.delaying = False
        self.held: list[str | bytes] = []
        self.page_side: WebSocketRoute | None = None
        self.server_side: WebSocketRoute | None = None
        self.waiting: list[WebSocketRoute] = []

    async def install(self, page: Page) -> None:
        await page.route_web_socket(re.compile(r".*/graphql$"), self._route)

    def _route(self, ws: WebSocketRoute) -> None:
        if not self.up:
            self.waiting.append(ws)  # accepted but never answered: the client waits
            return
        self.page_side = ws
        server = ws.connect_to_server()
        self.server_side = server

        def from_server(message: str | bytes) -> None:
            if self.delaying:
                self.held.append(message)
            else:
                ws.send(message)

        server.on_message(from_server)

    async def drop(self) -> None:
        """Close the connection and keep the next ones from reaching the server."""
        self.up = False
        if self.page_side is not None:
            await self.page_side.close(code=1001, reason="network gone")
            self.page_side = None
        if self.server_side is not None:
            await self.server_side.close(code=1001, reason="network gone")
            self.server_side = None

    async def restore(self) -> None:
        """Let the next connection through (the waiting ones are closed so the client retries)."""
        self.up = True
        waiting, self.waiting = self.waiting, []
        for ws in waiting:
            await ws.close(code=1001, reason="network back")

    def delay(self) -> None:
        self.delaying = True

    def release(self) -> None:
        self.delaying = False
        held, self.held = self.held, []
        if self.page_side is not None:
            for message in held:
                self.page_side.send(message)

    def held_types(self) -> list[str]:
        types = []
        for message in self.held:
            try:
                types.append(str(json.loads(message)["type"]))
            except (ValueError, KeyError, TypeError):
                types.append("?")
        return types


class NoSubscriptions:
    """A server without the ``events`` subscription, as the page sees it: while ``refusing``,
    every subscribe is answered with the error an older schema gives (then the server is
    "upgraded"); everything else goes through."""

    def __init__(self) -> None:
        self.refused = 0
        self.refusing = True

    async def install(self, page: Page) -> None:
        await page.route_web_socket(re.compile(r".*/graphql$"), self._route)

    def _route(self, ws: WebSocketRoute) -> None:
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            data = json.loads(message)
            if self.refusing and data.get("type") == "subscribe":
                self.refused += 1
                error = {"message": "Cannot query field 'events' on type 'Subscription'."}
                ws.send(json.dumps({"id": data["id"], "type": "error", "payload": [error]}))
            else:
                server.send(message)

        ws.on_message(from_page)


class LaggingStream:
    """Stands between a page and the API to make one subscription fall behind, as a slow
    reader would: ``hold()`` keeps what the server sends for it from the page (the changes are
    missed), ``lag()`` then ends it the way the server does (a ``LAGGED`` error, then
    ``complete``). Counts the page's subscribe messages for ``field``."""

    def __init__(self, field: str) -> None:
        self.field = field
        self.subscribes: list[str] = []
        self.holding = False
        self.page_side: WebSocketRoute | None = None

    async def install(self, page: Page) -> None:
        await page.route_web_socket(re.compile(r".*/graphql$"), self._route)

    def _current(self) -> str | None:
        return self.subscribes[-1] if self.subscribes else None

    def _route(self, ws: WebSocketRoute) -> None:
        self.page_side = ws
        server = ws.connect_to_server()

        def from_page(message: str | bytes) -> None:
            data = json.loads(message)
            if data.get("type") == "subscribe" and self.field in data["payload"]["query"]:
                self.subscribes.append(data["id"])
            server.send(message)

        def from_server(message: str | bytes) -> None:
            data = json.loads(message)
            if self.holding and data.get("id") == self._current():
                return
            ws.send(message)

        ws.on_message(from_page)
        server.on_message(from_server)

    def hold(self) -> None:
        self.holding = True

    def lag(self) -> None:
        current = self._current()
        assert current is not None
        assert self.page_side is not None
        self.holding = False
        error = {"message": "Too far behind.", "extensions": {"code": "LAGGED", "cursor": "x"}}
        self.page_side.send(
            json.dumps({"id": current, "type": "next", "payload": {"errors": [error]}})
        )
        self.page_side.send(json.dumps({"id": current, "type": "complete"}))


# --- Timing a change from one browser to another -------------------------------------------------

WATCH_ROW = """
([selector, attribute, value]) => {
  window.__changedAt = null;
  const check = () => {
    const element = document.querySelector(selector);
    if (!element || element.getAttribute(attribute) === value) {
      if (window.__changedAt === null) window.__changedAt = Date.now();
      observer.disconnect();
    }
  };
  const observer = new MutationObserver(check);
  observer.observe(document.body, { subtree: true, childList: true, attributes: true });
}
"""

WATCH_CLICK = """
(name) => {
  window.__clickedAt = null;
  document.addEventListener("click", (event) => {
    const button = event.target.closest("button");
    if (button && button.textContent.includes(name) && window.__clickedAt === null) {
      window.__clickedAt = Date.now();
    }
  }, { capture: true });
}
"""
