"""Sales' app: the offers inbox live (counter, reject, accept), listings (list a graded
device, reprice, pause, withdraw) and confirming orders."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.e2e.support import BUY, gid, go, make_offer, ok, open_trade, sign_in, status
from tests.support.markers import only
from tests.support.trade import create_device, create_listing

if TYPE_CHECKING:
    from tests.e2e.conftest import PageOpener
    from tests.support.graphql import GraphQLClient
    from tests.support.server import RunningServer

pytestmark = only("sqlite")


async def test_answers_offers_live_and_manages_listings_and_orders(
    server: RunningServer,
    sessions: async_sessionmaker[AsyncSession],
    graphql: GraphQLClient,
    open_page: PageOpener,
    screenshots: Path,
) -> None:
    from playwright.async_api import expect

    trade = await open_trade(sessions, graphql)
    world = trade.world
    iphone = await create_listing(sessions, world.client, price_minor=45_000, model="iPhone 13")
    pixel = await create_listing(
        sessions, world.client, price_minor=30_000, make="Google", model="Pixel 7"
    )
    graded = await create_device(sessions, world.client, make="Samsung", model="Galaxy S23")
    opened = await open_page()
    page = opened.page
    await sign_in(page, server.url, world.sales, "Offers")
    await expect(page.get_by_text("No offer is waiting for an answer.")).to_be_visible()

    # Offers arrive live.
    await make_offer(trade, sessions, world.buyer_a, iphone, 40_000)
    await make_offer(trade, sessions, world.buyer_b, iphone, 38_000)
    await make_offer(trade, sessions, world.buyer_b, pixel, 29_000)
    offers = page.locator("li[data-offer-id]")
    await expect(offers).to_have_count(3)
    await expect(offers.filter(has_text=world.buyer_a.organization.name)).to_contain_text("€400.00")
    await page.screenshot(path=str(screenshots / "sales-offers.png"), full_page=True)

    # Counter A's offer: above the list price is caught before sending.
    a_offer = offers.filter(has_text="€400.00")
    await a_offer.get_by_role("button", name="Counter the offer of €400.00").click()
    amount = a_offer.get_by_label("Counter amount (EUR)")
    await amount.fill("460")
    await a_offer.get_by_role("button", name="Send counter").click()
    too_high = a_offer.get_by_text("A counter is at most the list price, €450.00.")
    await expect(too_high).to_be_visible()
    await amount.fill("430")
    await a_offer.get_by_role("button", name="Send counter").click()
    await expect(status(page, "Countered with €430.00.")).to_be_visible()
    await expect(offers).to_have_count(2)

    # Reject B's offer on the iPhone; accept B's offer on the Pixel.
    await page.get_by_role("button", name="Reject the offer of €380.00").click()
    await expect(status(page, "Rejected the offer of €380.00")).to_be_visible()
    await page.get_by_role("button", name="Accept the offer of €290.00").click()
    await expect(
        page.get_by_role("status").filter(has_text="an order now reserves the device")
    ).to_be_visible()
    await expect(page.get_by_text("No offer is waiting for an answer.")).to_be_visible()
    await page.get_by_role("button", name="Our counters").click()
    await expect(offers).to_have_count(1)
    await expect(offers.first).to_contain_text("€430.00")

    # Listings: list the graded device, reprice, pause, withdraw.
    await go(page, "Listings")
    ready = page.locator(f'li[data-device-id="{gid("Device", graded.id)}"]')
    await ready.get_by_label("Price for Samsung Galaxy S23 (EUR)").fill("499")
    await ready.get_by_role("button", name="List now").click()
    await expect(
        page.get_by_role("status").filter(has_text="Samsung Galaxy S23 is on the board at €499.00.")
    ).to_be_visible()
    listed = page.locator("tr[data-listing-id]").filter(has_text="Galaxy S23")
    await expect(listed).to_have_count(1)
    price = listed.get_by_role("textbox", name="Price of Samsung Galaxy S23")
    await price.fill("479")
    await listed.get_by_role("button", name="Set the price of Samsung Galaxy S23").click()
    await expect(
        page.get_by_role("status").filter(has_text="Samsung Galaxy S23 now costs €479.00.")
    ).to_be_visible()
    # The list has the new version once the field shows the price as the server has it.
    await expect(price).to_have_value("479.00")
    await page.screenshot(path=str(screenshots / "sales-listings.png"), full_page=True)
    await listed.get_by_role("button", name="Pause Samsung Galaxy S23").click()
    await expect(listed).to_have_count(0)
    await page.get_by_role("button", name="Paused").click()
    await expect(listed).to_contain_text("Paused")
    await listed.get_by_role("button", name="Withdraw Samsung Galaxy S23").click()
    await expect(
        page.get_by_role("status").filter(has_text="Samsung Galaxy S23 is withdrawn")
    ).to_be_visible()
    await expect(listed).to_have_count(0)

    # Orders: the Pixel's order from the accepted offer, and a purchase made now, confirmed.
    await go(page, "Orders")
    orders = page.locator("li[data-order-id]")
    await expect(orders).to_have_count(1)
    await expect(orders.first).to_contain_text("Google Pixel 7")
    data = await trade.call(
        sessions, world.buyer_a, BUY, {"input": {"listingIds": [gid("Listing", iphone.id)]}}
    )
    ok(data, "buyListings", "BuyListingsPayload")
    await expect(orders).to_have_count(2)
    await page.get_by_role("button", name="Confirm paid: the order of Apple iPhone 13").click()
    await expect(status(page, "Confirmed: Apple iPhone 13 goes to the warehouse")).to_be_visible()
    await expect(orders).to_have_count(1)
    opened.log.assert_clean()
