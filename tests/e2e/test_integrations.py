"""The admin's integrations page: the live event stream with its cursor and lag, resuming
from the last cursor after a dropped connection (nothing missed, nothing twice)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.support import REPRICE, SocketGate, buy, gid, go, ok, open_trade, sign_in
from tests.support.markers import only
from tests.support.trade import create_listing

if TYPE_CHECKING:
    from tests.e2e.conftest import PageOpener
    from tests.support.graphql import GraphQLClient
    from tests.support.server import RunningServer

pytestmark = only("sqlite")


async def test_streams_events_with_cursor_and_lag_and_resumes_after_a_drop(
    server: RunningServer,
    sessions: async_sessionmaker[AsyncSession],
    graphql: GraphQLClient,
    open_page: PageOpener,
    screenshots: Path,
) -> None:
    from playwright.async_api import expect

    trade = await open_trade(sessions, graphql)
    world = trade.world
    listing = await create_listing(sessions, world.client, price_minor=45_000)
    listing_id = gid("Listing", listing.id)

    async def reprice(minor: int) -> None:
        data = await trade.call(
            sessions,
            world.sales,
            REPRICE,
            {"input": {"listingId": listing_id, "price": str(minor)}},
        )
        ok(data, "repriceListing", "ListingPayload")

    opened = await open_page()
    page = opened.page
    gate = SocketGate()
    await gate.install(page)
    await sign_in(page, server.url, world.admin, "Devices")
    await go(page, "Integrations")
    await expect(page.get_by_text("No event yet")).to_be_visible()
    await expect(page.get_by_text("Not available yet: the API has no")).to_be_visible()
    await expect(page.get_by_test_id("stream-state")).to_contain_text("Streaming")

    await reprice(44_000)
    events = page.locator("tbody tr")
    await expect(events).to_have_count(1)
    await expect(events.first).to_have_attribute("data-event-type", "listing.price_changed")
    await expect(events.first).to_contain_text('"priceMinor":44000')
    await expect(page.get_by_test_id("stream-lag")).to_have_text(re.compile(r"^\d+ ms$"))
    first_cursor = await page.get_by_test_id("stream-cursor").text_content()
    assert first_cursor
    assert first_cursor.strip() != "— (live from now)"

    # The connection drops; two changes happen meanwhile; once back, the stream resumes after
    # the last cursor it had: both arrive, once each, in order.
    await gate.drop()
    await expect(page.get_by_test_id("stream-state")).to_contain_text("Waiting for the connection")
    await reprice(43_000)
    await reprice(42_000)
    await gate.restore()
    await expect(page.get_by_test_id("stream-state")).to_contain_text(
        "resumed from the last cursor once", timeout=15_000
    )
    await expect(events).to_have_count(3)
    await expect(events.nth(0)).to_contain_text('"priceMinor":42000')
    await expect(events.nth(1)).to_contain_text('"priceMinor":43000')
    await expect(page.get_by_test_id("stream-state")).to_contain_text("3 received")
    assert await page.get_by_test_id("stream-cursor").text_content() != first_cursor

    # Live again: a purchase is several events of one transaction.
    await buy(trade, sessions, world.buyer_a, listing)
    await expect(page.locator('tr[data-event-type="order.placed"]')).to_have_count(1)
    await expect(page.locator('tr[data-event-type="listing.reserved"]')).to_have_count(1)
    await page.screenshot(path=str(screenshots / "admin-integrations.png"), full_page=True)

    # A filter narrows the stream to the types named.
    await page.get_by_label("Event types").fill("listing.price_changed")
    await page.get_by_role("button", name="Apply").click()
    await expect(page.get_by_text("No event yet")).to_be_visible()
    assert opened.log.page_errors == []
    assert opened.log.console_errors == []
