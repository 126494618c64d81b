"""Every role's views, with data in them: each opens without a console error, and on a phone
nothing is wider than the screen. Screenshots of each on a narrow screen."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.support import (
    buy,
    go,
    make_offer,
    no_sideways_scroll,
    ok,
    open_trade,
    sell_and_deliver,
    sign_in,
)
from tests.support.markers import only
from tests.support.trade import create_device, create_listing

if TYPE_CHECKING:
    from tests.e2e.conftest import PageOpener
    from tests.support.auth import Person
    from tests.support.graphql import GraphQLClient
    from tests.support.server import RunningServer

pytestmark = only("sqlite")

GENERATE = """
mutation Generate($input: GenerateSettlementInput!) {
  generateSettlement(input: $input) {
    __typename
    ... on Error { code message }
  }
}
"""

# Views without a screenshot from the other tests get a wide one here too.
WIDE = {"My orders", "Orders"}


async def test_every_view_opens_cleanly_and_fits_a_phone(
    server: RunningServer,
    sessions: async_sessionmaker[AsyncSession],
    graphql: GraphQLClient,
    open_page: PageOpener,
    screenshots: Path,
) -> None:
    from playwright.async_api import expect

    trade = await open_trade(sessions, graphql)
    world = trade.world
    delivered = await create_listing(sessions, world.client, price_minor=45_000, model="iPhone 13")
    await sell_and_deliver(trade, sessions, delivered)
    pending = await create_listing(
        sessions, world.client, price_minor=52_000, model="iPhone 14 Pro Max", storage_gb=512
    )
    await buy(trade, sessions, world.buyer_a, pending)
    offered = await create_listing(
        sessions, world.client, price_minor=30_000, make="Google", model="Pixel 7"
    )
    await make_offer(trade, sessions, world.buyer_a, offered, 27_500)
    await create_device(sessions, world.client, make="Samsung", model="Galaxy Tab S8")
    data = await trade.call(
        sessions,
        trade.finance,
        GENERATE,
        {
            "input": {
                "clientId": trade.client_id,
                "periodStart": "2020-01-01",
                "periodEnd": "2099-12-31",
            }
        },
    )
    ok(data, "generateSettlement", "GenerateSettlementPayload")

    tours: list[tuple[str, Person, str, list[str]]] = [
        ("buyer", world.buyer_a, "Board", ["Board", "My offers", "My orders"]),
        ("client", world.client_user, "My devices", ["My devices", "My sales", "My settlements"]),
        ("warehouse", world.warehouse, "Devices", ["Devices", "Receiving", "Shipping"]),
        ("sales", world.sales, "Offers", ["Offers", "Listings", "Orders"]),
        ("finance", trade.finance, "Settlements", ["Settlements"]),
        ("admin", world.admin, "Devices", ["Integrations"]),
    ]
    for role, person, home, views in tours:
        for width, height in ((1280, 860), (390, 844)):
            opened = await open_page(width=width, height=height)
            page = opened.page
            await sign_in(page, server.url, person, home)
            for view in views:
                await go(page, view)
                await expect(page.get_by_role("heading", level=1)).to_have_text(view)
                await expect(page.get_by_text("Loading…")).to_have_count(0)
                slug = f"{role}-{view.lower().replace(' ', '-')}"
                if width < 600:
                    await no_sideways_scroll(page)
                    await page.screenshot(
                        path=str(screenshots / f"narrow-{slug}.png"), full_page=True
                    )
                elif view in WIDE:
                    await page.screenshot(path=str(screenshots / f"{slug}.png"), full_page=True)
            opened.log.assert_clean()
